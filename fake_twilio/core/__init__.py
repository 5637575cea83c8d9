"""Shared machinery of the fake: SIDs, clock, errors, parameters, paging, accounts, state."""
