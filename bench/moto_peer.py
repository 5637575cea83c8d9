"""Benchmark 2: the fake against its peer, moto, per call, in the same run.

moto (``moto.mock_aws``) is the usual stateful in-process fake of a cloud API in Python. Each
DynamoDB call through boto3 is paired with the Sync call through the twilio SDK and
``fake_twilio.mock()`` that does the same job for this project's backend (a Sync map is the
key-value table of a stream): ``put_item`` with a map item create, ``get_item`` with a map
item fetch, ``query`` (10 items of one partition) with a one-page list of a 10-item map. Both
sides run interleaved, batch by batch; the ratio fake/moto is per round.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .measure import BenchResult, Stats, geomean, interleave, timed
from .sdk_ops import MAP_ITEM_FETCH, MAP_ITEMS_LIST, OPS_BY_NAME, prepare

NAME = "moto"
TABLE = "bench"
QUERY_PK = "stream-query"


def _moto_calls(ddb: Any) -> dict[str, Any]:
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for k in range(10):
        ddb.put_item(
            TableName=TABLE,
            Item={"pk": {"S": QUERY_PK}, "sk": {"S": f"k{k}"}, "data": {"S": json.dumps({"n": k})}},
        )

    def put_item(i: int) -> None:
        ddb.put_item(
            TableName=TABLE,
            Item={
                "pk": {"S": "stream-1"},
                "sk": {"S": f"k{i}"},
                "data": {"S": json.dumps({"n": i, "raised": True})},
            },
        )

    def get_item(i: int) -> None:
        found = ddb.get_item(
            TableName=TABLE, Key={"pk": {"S": QUERY_PK}, "sk": {"S": f"k{i % 10}"}}
        )
        if "Item" not in found:
            raise AssertionError("get_item found nothing")

    def query(i: int) -> None:
        found = ddb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": QUERY_PK}},
        )
        if found["Count"] != 10:
            raise AssertionError(f"query found {found['Count']} items")

    return {"put_item": put_item, "get_item": get_item, "query": query}


def _contender(func: Any) -> Any:
    return timed(func)


PAIRS = (
    ("put_item", "map_item_create"),
    ("get_item", "map_item_fetch"),
    ("query", "map_items_list"),
)


def run(quick: bool = False) -> BenchResult:
    result = BenchResult(
        NAME,
        "The fake vs moto (DynamoDB through boto3), per call",
        "Microseconds per call of moto's DynamoDB (boto3 under moto.mock_aws) and of the "
        "fake's comparable Sync call (twilio SDK under fake_twilio.mock()); ratio fake/moto per "
        "round, median and IQR. Below 1.0x the fake is faster.",
    )
    try:
        import boto3
        from moto import mock_aws
    except ImportError as exc:
        result.skipped = f"moto/boto3 not installed ({exc.name}): pip install -e '.[bench]'"
        return result
    rounds, batch = (5, 10) if quick else (15, 25)
    for key, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(key, value)
    fake_ops = {
        "map_item_create": OPS_BY_NAME["map_item_create"],
        "map_item_fetch": MAP_ITEM_FETCH,
        "map_items_list": MAP_ITEMS_LIST,
    }
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        moto_calls = _moto_calls(ddb)
        contenders: dict[str, Any] = {}
        for moto_name, fake_name in PAIRS:
            contenders[moto_name] = _contender(moto_calls[moto_name])
            contenders[fake_name] = prepare(fake_ops[fake_name], kinds=("mock",)).contenders["mock"]
        samples = interleave(contenders, rounds=rounds, batch=batch)
    ratios_by_pair = []
    for moto_name, fake_name in PAIRS:
        result.add(f"{moto_name} [moto]", Stats.of(samples[moto_name]).scaled(1e6), "us/call")
        result.add(f"{fake_name} [fake]", Stats.of(samples[fake_name]).scaled(1e6), "us/call")
        ratios = [a / b for a, b in zip(samples[fake_name], samples[moto_name], strict=True)]
        ratios_by_pair.append(ratios)
        result.add(f"{fake_name} / {moto_name}", Stats.of(ratios), "x")
    overall = Stats.of([geomean(list(col)) for col in zip(*ratios_by_pair, strict=True)])
    result.add("overall fake/moto (geomean)", overall, "x", goal="< 1.0x", met=overall.median < 1.0)
    result.data = {"pairs": [list(p) for p in PAIRS], "rounds": rounds, "batch": batch}
    return result
