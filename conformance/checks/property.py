"""PROP: the property-based requirements (docs/PROTOCOL.md section 8, PROP-1 and PROP-2).

The checks delegate to :mod:`conformance.property`: a Hypothesis state machine whose model is
the expected state of every stream (PROP-1) and schema-driven fuzzing of every client
endpoint (PROP-2). Both run within the budget of the configuration (``--property-examples``,
``--property-steps``, ``--property-deadline``; the steps are PROP-1's alone) and are seeded
from the suite's seed, so ``--seed N --select PROP-1`` replays a reported failure. Each
result's note states the budget that check ran within.
"""

from __future__ import annotations

from ..context import CheckContext
from ..registry import check


@check("PROP-1", needs_twilio=True)
def sequences_keep_the_state(ctx: CheckContext) -> None:
    """Random sequences of protocol moves by three users (create and re-create streams,
    joins, player reports, hands, invitations, removals, deletions, retries, and clients
    connecting to and leaving the room, starting the player or dropping Sync) keep the
    answers and the Twilio state the model of docs/PROTOCOL.md 5.3 predicts.

    Passes: after "create S; bob joins as a viewer; bob is invited; bob joins again; bob is
    invited again", user-bob has a new revision with {"speaker_invite": true}.
    Fails: the second invitation wrote nothing (the value was already true); the report
    shows the shortest such sequence as a numbered script with curl lines.
    """
    from ..property.budget import Budget
    from ..property.stateful import run_stateful

    run_stateful(ctx, Budget.of(ctx.config, "PROP-1", stateful=True))


@check("PROP-2", needs_twilio=True)
def generated_bodies_are_judged_by_shape(ctx: CheckContext) -> None:
    """Bodies generated from the request schemas: valid ones (odd Unicode, extra members)
    are never answered 400 or 5xx; invalid ones (wrong types, missing members, control
    characters, 10 kB identities) get 400 and the message the catalog gives; malformed JSON
    gets 'invalid request body'; other content types never get a 5xx; and no rejected
    request writes to Twilio.

    Passes: join-stream-as-viewer with a 10,240-character user_identity answers 400
    'invalid user_identity' and Twilio sees no write.
    Fails: the same request answers 500, or creates the user document before failing.
    """
    from ..property.budget import Budget
    from ..property.fuzz import run_fuzz

    run_fuzz(ctx, Budget.of(ctx.config, "PROP-2", stateful=False))
