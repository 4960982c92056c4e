"""Procedural multi-turn tasks over BFCL's eight backends, with executed ground truth and no BFCL item in them.

    python -m data_preprocess.multiturn_generate --output-dir DIR [--tasks 2000] [--seed 0]
        [--classes GorillaFileSystem TicketAPI ...] [--min-turns 2] [--max-turns 4] [--val-ratio 0.1]

Writes ``tasks.jsonl`` (the task format of :mod:`awpo.multiturn.task`), ``train.parquet`` / ``val.parquet`` (rows of
:mod:`data_preprocess.multiturn`, ``data_source`` ``multiturn_generated``) and ``stats.json`` (tasks per class, per
kind, turns, calls).

Each task draws one backend class, and a second one a third of the time, and a random scenario for each (file trees,
users and inboxes, tweets, tickets, stock accounts, cars, credit cards: names and values built from the generator's
own word lists, never BFCL's). Each turn proposes one action of one class — a request in plain words and the calls
that fulfil it, computed from the state the earlier turns left — and executes the calls on a fresh environment
replaying the task so far; a proposal whose call fails (an error result, or a backend's own error or ``False``
status) is dropped and another one drawn. So every ground-truth call of a written task runs cleanly, and the
ground truth passes bfcl-eval's checks against itself (checked before a task is written).

Task kinds, as BFCL's categories: ``base`` (every turn asks for calls); ``miss_param`` (a turn asks without a value
the calls need, the ground truth is no call, and the next turn gives the value); ``miss_func`` (a turn needs a
function that is hidden from the tools, the ground truth is no call, and the next turn is the announcement of the
function, as in bfcl-eval, followed by the calls).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from awpo.multiturn.backends import BACKEND_STEMS, STATELESS_CLASSES
from awpo.multiturn.checker import check_episode
from awpo.multiturn.environment import CallResult, Environment
from awpo.multiturn.task import Call, MultiTurnTask, write_tasks
from data_preprocess.augment import keyed_rng
from data_preprocess.multiturn import hash_task_split, write_task_rows
from data_preprocess.pipeline import positive_int, ratio
from data_preprocess.writer import write_json_atomic

DATA_SOURCE = "multiturn_generated"
KINDS = ("base", "miss_param", "miss_func")
KIND_WEIGHTS = (0.7, 0.15, 0.15)
SECOND_CLASS_PROBABILITY = 1 / 3
MAX_PROPOSALS_PER_TASK = 60
_STATUS_KEYS = ("status", "success")

_ONSETS = ("Ka", "Lo", "Mi", "Ta", "Re", "Su", "Vi", "No", "Da", "Pe", "Jo", "Ha", "Zu", "Be", "Fi")
_CODAS = ("ren", "lia", "mos", "dan", "vik", "sel", "tor", "ney", "bel", "rim", "quin", "dra", "lo", "sha")
_THINGS = ("amber", "invoice", "garden", "harbor", "lantern", "meadow", "orbit", "pixel", "quartz", "ribbon", "saddle")
_OFFICE = ("budget", "summary", "draft", "roster", "schedule", "inventory", "forecast", "minutes", "agenda")
_NATURE = ("coffee", "bicycle", "glacier", "compass", "marble", "thunder", "canyon", "falcon", "juniper", "nectar")
_WORDS = (
    *_THINGS,
    *_OFFICE,
    *_NATURE,
    "ledger",
    "backlog",
    "pepper",
    "raven",
    "sapphire",
    "tundra",
    "timber",
    "velvet",
)
_FOLDERS = ("projects", "archive", "notes", "photos", "invoices", "drafts", "music", "receipts", "travel", "scripts")
_TOPICS = ("login page", "printer queue", "VPN access", "expense report", "laptop battery", "shared drive", "badge")


@dataclass(frozen=True)
class Proposal:
    """A request and the calls that fulfil it.

    Attributes:
        text: the user's request.
        calls: the ground-truth calls, in order.
        vague: the request without one value the calls need (for a miss_param turn), or None.
        detail: the user's next turn that gives that value.
    """

    text: str
    calls: tuple[Call, ...]
    vague: str | None = None
    detail: str | None = None


Action = Callable[[random.Random, Environment], Proposal | None]


def call(name: str, **arguments: Any) -> Call:
    """One ground-truth call."""
    return {"name": name, "arguments": arguments}


def person(rng: random.Random) -> str:
    return rng.choice(_ONSETS) + rng.choice(_CODAS)


def phrase(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def money(rng: random.Random, low: int, high: int) -> float:
    return round(rng.uniform(low, high), 2)


def _result(environment: Environment, name: str, **arguments: Any) -> Any:
    """The decoded result of a read-only lookup the generator makes to compute later arguments."""
    return json.loads(environment.call(name, arguments).text)


# ---- GorillaFileSystem ------------------------------------------------------------------------------------------


def file_system_scenario(rng: random.Random) -> dict[str, Any]:
    def files(count: int) -> dict[str, Any]:
        names = rng.sample(_WORDS, count)
        return {
            f"{name}.txt": {"type": "file", "content": "\n".join(phrase(rng, 4) for _ in range(rng.randint(1, 4)))}
            for name in names
        }

    contents: dict[str, Any] = files(rng.randint(1, 2))
    for folder in rng.sample(_FOLDERS, rng.randint(2, 3)):
        contents[folder] = {"type": "directory", "contents": files(rng.randint(1, 3))}
    return {"root": {person(rng).lower(): {"type": "directory", "contents": contents}}}


def _here(environment: Environment) -> tuple[list[str], list[str], Any]:
    """(files, folders, the directory object) of the current directory."""
    directory = environment.instances["GorillaFileSystem"]._current_dir
    files = sorted(name for name, item in directory.contents.items() if hasattr(item, "content"))
    folders = sorted(name for name, item in directory.contents.items() if not hasattr(item, "content"))
    return files, folders, directory


def _some_file(rng: random.Random, environment: Environment) -> str | None:
    """A file of the current directory, or None when it has none."""
    files, _, _ = _here(environment)
    return rng.choice(files) if files else None


def make_folder(rng: random.Random, environment: Environment) -> Proposal | None:
    name = f"{rng.choice(_WORDS)}_{rng.randint(2, 99)}"
    return Proposal(
        rng.choice((f"Create a new folder called '{name}' in the current directory.", f"Make a directory '{name}'.")),
        (call("mkdir", dir_name=name),),
        vague="I need a new folder in the current directory.",
        detail=f"Call the folder '{name}'.",
    )


def write_file(rng: random.Random, environment: Environment) -> Proposal | None:
    name, text = f"{rng.choice(_WORDS)}_{rng.randint(2, 99)}.txt", phrase(rng, 5)
    return Proposal(
        f"Create a file named '{name}' and write '{text}' into it.",
        (call("touch", file_name=name), call("echo", content=text, file_name=name)),
        vague=f"Save the text '{text}' in a new file here.",
        detail=f"The file should be named '{name}'.",
    )


def enter_folder(rng: random.Random, environment: Environment) -> Proposal | None:
    _, folders, _ = _here(environment)
    if not folders:
        return None
    folder = rng.choice(folders)
    return Proposal(
        rng.choice((f"Go into the '{folder}' folder.", f"Switch to the {folder} directory.")),
        (call("cd", folder=folder),),
    )


def move_file(rng: random.Random, environment: Environment) -> Proposal | None:
    files, folders, _ = _here(environment)
    if not files or not folders:
        return None
    source, destination = rng.choice(files), rng.choice(folders)
    return Proposal(
        f"Move '{source}' into the '{destination}' folder.",
        (call("mv", source=source, destination=destination),),
        vague=f"Move '{source}' into one of the folders here.",
        detail=f"Put it in '{destination}'.",
    )


def copy_file(rng: random.Random, environment: Environment) -> Proposal | None:
    source = _some_file(rng, environment)
    if source is None:
        return None
    copy_name = f"{source.removesuffix('.txt')}_copy.txt"
    return Proposal(
        f"Make a copy of '{source}' named '{copy_name}'.", (call("cp", source=source, destination=copy_name),)
    )


def count_lines(rng: random.Random, environment: Environment) -> Proposal | None:
    name = _some_file(rng, environment)
    if name is None:
        return None
    return Proposal(f"How many lines does '{name}' have?", (call("wc", file_name=name, mode="l"),))


def search_file(rng: random.Random, environment: Environment) -> Proposal | None:
    name = _some_file(rng, environment)
    if name is None:
        return None
    word = rng.choice(_here(environment)[2].contents[name].content.split() or ["x"])
    return Proposal(
        f"Show me the lines of '{name}' that contain '{word}'.",
        (call("grep", file_name=name, pattern=word),),
        vague=f"Search '{name}' for a word for me.",
        detail=f"The word is '{word}'.",
    )


def show_file(rng: random.Random, environment: Environment) -> Proposal | None:
    name = _some_file(rng, environment)
    if name is None:
        return None
    return Proposal(
        rng.choice((f"Print the contents of '{name}'.", f"What is written in {name}?")), (call("cat", file_name=name),)
    )


def remove_file(rng: random.Random, environment: Environment) -> Proposal | None:
    name = _some_file(rng, environment)
    if name is None:
        return None
    return Proposal(f"Delete the file '{name}'.", (call("rm", file_name=name),))


def leave_folder(rng: random.Random, environment: Environment) -> Proposal | None:
    _, _, directory = _here(environment)
    if directory.parent is None:
        return None
    return Proposal("Go back up to the parent folder.", (call("cd", folder=".."),))


# ---- MathAPI ----------------------------------------------------------------------------------------------------


def add_numbers(rng: random.Random, environment: Environment) -> Proposal | None:
    a, b = money(rng, 1, 500), money(rng, 1, 500)
    return Proposal(f"What is {a} plus {b}?", (call("add", a=a, b=b),))


def average(rng: random.Random, environment: Environment) -> Proposal | None:
    numbers = [rng.randint(1, 100) for _ in range(rng.randint(3, 6))]
    return Proposal(
        f"Compute the average of {', '.join(map(str, numbers))}.",
        (call("mean", numbers=numbers),),
        vague="Compute the average of my numbers.",
        detail=f"They are {', '.join(map(str, numbers))}.",
    )


def raise_power(rng: random.Random, environment: Environment) -> Proposal | None:
    base, exponent = rng.randint(2, 12), rng.randint(2, 5)
    return Proposal(f"What is {base} to the power of {exponent}?", (call("power", base=base, exponent=exponent),))


def root_with_digits(rng: random.Random, environment: Environment) -> Proposal | None:
    number, precision = rng.randint(2, 999), rng.randint(3, 8)
    return Proposal(
        f"Give me the square root of {number} with {precision} significant digits.",
        (call("square_root", number=number, precision=precision),),
    )


def share_of(rng: random.Random, environment: Environment) -> Proposal | None:
    whole = rng.randint(50, 900)
    part = rng.randint(1, whole)
    return Proposal(f"What percentage of {whole} is {part}?", (call("percentage", part=part, whole=whole),))


def sum_then_round(rng: random.Random, environment: Environment) -> Proposal | None:
    a, b, places = rng.uniform(1, 90), rng.uniform(1, 90), rng.randint(0, 2)
    a, b = round(a, 3), round(b, 3)
    total = _result(environment, "add", a=a, b=b)["result"]
    return Proposal(
        f"Add {a} and {b}, then round the sum to {places} decimal places.",
        (call("add", a=a, b=b), call("round_number", number=total, decimal_places=places)),
    )


def convert_length(rng: random.Random, environment: Environment) -> Proposal | None:
    value = rng.randint(1, 80)
    unit_in, unit_out = rng.sample(("km", "m", "cm", "mm"), 2)
    return Proposal(
        f"Convert {value} {unit_in} into {unit_out}.",
        (call("si_unit_conversion", value=value, unit_in=unit_in, unit_out=unit_out),),
    )


# ---- MessageAPI -------------------------------------------------------------------------------------------------


def messaging_scenario(rng: random.Random) -> dict[str, Any]:
    names = list(dict.fromkeys(person(rng) for _ in range(6)))[: rng.randint(3, 5)]
    user_map = {name: f"USR{index:03d}" for index, name in enumerate(names, start=1)}
    inbox = [{rng.choice(list(user_map.values())): f"{phrase(rng, 3).capitalize()}."} for _ in range(rng.randint(1, 3))]
    return {
        "user_count": len(user_map),
        "user_map": user_map,
        "inbox": inbox,
        "message_count": len(inbox),
        "current_user": rng.choice([None, next(iter(user_map.values()))]),
    }


def _messenger(environment: Environment) -> Any:
    return environment.instances["MessageAPI"]


def message_login(rng: random.Random, environment: Environment) -> Proposal | None:
    name = rng.choice(list(_messenger(environment).user_map))
    user_id = _messenger(environment).user_map[name]
    return Proposal(
        f"Log me into the messaging app as {name}.",
        (call("get_user_id", user=name), call("message_login", user_id=user_id)),
    )


def send_note(rng: random.Random, environment: Environment) -> Proposal | None:
    name = rng.choice(list(_messenger(environment).user_map))
    text = f"{phrase(rng, 4).capitalize()}."
    user_id = _messenger(environment).user_map[name]
    return Proposal(
        f"Send {name} the message '{text}'.",
        (call("get_user_id", user=name), call("send_message", receiver_id=user_id, message=text)),
        vague=f"Send {name} a message for me.",
        detail=f"Write '{text}'.",
    )


def add_contact(rng: random.Random, environment: Environment) -> Proposal | None:
    name = f"{person(rng)} {rng.choice(_ONSETS)}{rng.choice(_CODAS)}"
    return Proposal(f"Add {name} to my contacts.", (call("add_contact", user_name=name),))


def search_inbox(rng: random.Random, environment: Environment) -> Proposal | None:
    inbox = _messenger(environment).inbox
    if not inbox:
        return None
    word = rng.choice(next(iter(rng.choice(inbox).values())).rstrip(".").split())
    return Proposal(f"Find the messages that mention '{word}'.", (call("search_messages", keyword=word),))


def view_sent(rng: random.Random, environment: Environment) -> Proposal | None:
    return Proposal("Show me all the messages I have sent.", (call("view_messages_sent"),))


# ---- TwitterAPI -------------------------------------------------------------------------------------------------


def posting_scenario(rng: random.Random) -> dict[str, Any]:
    username = f"{person(rng).lower()}_{rng.randint(10, 99)}"
    tweets = {
        str(index): {
            "id": index,
            "username": username,
            "content": f"{phrase(rng, 5).capitalize()}.",
            "tags": [f"#{rng.choice(_WORDS)}"],
            "mentions": [],
        }
        for index in range(rng.randint(1, 3))
    }
    return {
        "username": username,
        "password": f"{rng.choice(_WORDS)}{rng.randint(100, 999)}",
        "authenticated": rng.random() < 0.7,
        "tweets": tweets,
        "comments": {},
        "retweets": {},
        "following_list": [person(rng).lower() for _ in range(2)],
        "tweet_counter": len(tweets),
    }


def _poster(environment: Environment) -> Any:
    return environment.instances["TwitterAPI"]


def _some_tweet(rng: random.Random, environment: Environment) -> int | None:
    """The id of a tweet of the account, or None when it has none."""
    tweets = _poster(environment).tweets
    return rng.choice(sorted(tweets)) if tweets else None


def posting_login(rng: random.Random, environment: Environment) -> Proposal | None:
    account = _poster(environment)
    if account.authenticated:
        return None
    return Proposal(
        f"Sign me in: my username is '{account.username}' and my password is '{account.password}'.",
        (call("authenticate_twitter", username=account.username, password=account.password),),
    )


def post(rng: random.Random, environment: Environment) -> Proposal | None:
    content, tag = f"{phrase(rng, 6).capitalize()}!", f"#{rng.choice(_WORDS)}"
    return Proposal(
        f"Post '{content}' with the tag {tag}.",
        (call("post_tweet", content=content, tags=[tag], mentions=[]),),
        vague=f"Post something with the tag {tag}.",
        detail=f"The text is '{content}'.",
    )


def follow(rng: random.Random, environment: Environment) -> Proposal | None:
    name = f"{person(rng).lower()}{rng.randint(1, 9)}"
    return Proposal(f"Follow the user {name}.", (call("follow_user", username_to_follow=name),))


def comment_on(rng: random.Random, environment: Environment) -> Proposal | None:
    tweet_id, text = _some_tweet(rng, environment), f"{phrase(rng, 3).capitalize()}."
    if tweet_id is None:
        return None
    return Proposal(
        f"Comment '{text}' on tweet {tweet_id}.", (call("comment", tweet_id=tweet_id, comment_content=text),)
    )


def mention_someone(rng: random.Random, environment: Environment) -> Proposal | None:
    tweet_id, name = _some_tweet(rng, environment), f"@{person(rng).lower()}"
    if tweet_id is None:
        return None
    return Proposal(
        f"Mention {name} in tweet {tweet_id}.", (call("mention", tweet_id=tweet_id, mentioned_usernames=[name]),)
    )


def retweet(rng: random.Random, environment: Environment) -> Proposal | None:
    tweet_id = _some_tweet(rng, environment)
    if tweet_id is None:
        return None
    return Proposal(f"Retweet tweet number {tweet_id}.", (call("retweet", tweet_id=tweet_id),))


# ---- TicketAPI --------------------------------------------------------------------------------------------------


def ticket_scenario(rng: random.Random) -> dict[str, Any]:
    owner = person(rng).lower()
    queue = [
        {
            "id": index,
            "title": f"{rng.choice(_TOPICS).capitalize()} issue",
            "description": f"{phrase(rng, 5).capitalize()}.",
            "status": rng.choice(("Open", "Open", "Closed")),
            "priority": rng.randint(1, 5),
            "created_by": owner,
        }
        for index in range(1, rng.randint(2, 4))
    ]
    return {"ticket_queue": queue, "ticket_counter": len(queue) + 1, "current_user": rng.choice([None, owner])}


def _tickets(environment: Environment) -> Any:
    return environment.instances["TicketAPI"]


def ticket_login(rng: random.Random, environment: Environment) -> Proposal | None:
    if _tickets(environment).current_user:
        return None
    username, password = person(rng).lower(), f"{rng.choice(_WORDS)}{rng.randint(10, 99)}"
    return Proposal(
        f"Log into the ticket system as {username} with the password {password}.",
        (call("ticket_login", username=username, password=password),),
    )


def open_ticket(rng: random.Random, environment: Environment) -> Proposal | None:
    topic, priority = rng.choice(_TOPICS), rng.randint(1, 5)
    title, description = f"{topic.capitalize()} broken", f"{phrase(rng, 5).capitalize()}."
    return Proposal(
        f"Open a ticket titled '{title}' with priority {priority} and the description '{description}'.",
        (call("create_ticket", title=title, description=description, priority=priority),),
        vague=f"Open a ticket with priority {priority} and the description '{description}'.",
        detail=f"Give it the title '{title}'.",
    )


def _some_open_ticket(rng: random.Random, environment: Environment) -> int | None:
    """The id of an open ticket, or None when there is none."""
    ids = [ticket["id"] for ticket in _tickets(environment).ticket_queue if ticket["status"] == "Open"]
    return rng.choice(ids) if ids else None


def close_ticket(rng: random.Random, environment: Environment) -> Proposal | None:
    ticket_id = _some_open_ticket(rng, environment)
    if ticket_id is None:
        return None
    return Proposal(f"Close ticket {ticket_id}.", (call("close_ticket", ticket_id=ticket_id),))


def resolve_ticket(rng: random.Random, environment: Environment) -> Proposal | None:
    ticket_id, note = _some_open_ticket(rng, environment), f"{phrase(rng, 4).capitalize()}."
    if ticket_id is None:
        return None
    return Proposal(
        f"Resolve ticket {ticket_id} with the note '{note}'.",
        (call("resolve_ticket", ticket_id=ticket_id, resolution=note),),
        vague=f"Resolve ticket {ticket_id}.",
        detail=f"The resolution note is '{note}'.",
    )


def reprioritise(rng: random.Random, environment: Environment) -> Proposal | None:
    ticket_id, priority = _some_open_ticket(rng, environment), rng.randint(1, 5)
    if ticket_id is None:
        return None
    return Proposal(
        f"Change the priority of ticket {ticket_id} to {priority}.",
        (call("edit_ticket", ticket_id=ticket_id, updates={"priority": priority}),),
    )


# ---- TradingBot -------------------------------------------------------------------------------------------------


def trading_scenario(rng: random.Random) -> dict[str, Any]:
    symbols = list(dict.fromkeys("".join(rng.choice("BCDFGHKLMNPRSTVXZ") for _ in range(4)) for _ in range(5)))
    stocks = {
        symbol: {
            "price": money(rng, 5, 900),
            "percent_change": round(rng.uniform(-3, 3), 2),
            "volume": round(rng.uniform(0.5, 4), 3),
            "MA(5)": money(rng, 5, 900),
            "MA(20)": money(rng, 5, 900),
        }
        for symbol in symbols
    }
    return {
        "account_info": {
            "account_id": rng.randint(10_000, 99_999),
            "balance": money(rng, 2_000, 50_000),
            "binding_card": rng.randint(10**15, 10**16 - 1),
        },
        "authenticated": True,
        "market_status": rng.choice(("Open", "Closed")),
        "order_counter": rng.randint(1_000, 9_000),
        "stocks": stocks,
        "watch_list": rng.sample(symbols, 2),
        "orders": {},
        "transaction_history": [],
    }


def _broker(environment: Environment) -> Any:
    return environment.instances["TradingBot"]


def watch_stock(rng: random.Random, environment: Environment) -> Proposal | None:
    broker = _broker(environment)
    candidates = sorted(set(broker.stocks) - set(broker.watch_list))
    if not candidates:
        return None
    symbol = rng.choice(candidates)
    return Proposal(f"Add {symbol} to my watchlist.", (call("add_to_watchlist", stock=symbol),))


def unwatch_stock(rng: random.Random, environment: Environment) -> Proposal | None:
    watched = _broker(environment).watch_list
    if not watched:
        return None
    symbol = rng.choice(watched)
    return Proposal(f"Take {symbol} off my watchlist.", (call("remove_stock_from_watchlist", symbol=symbol),))


def quote(rng: random.Random, environment: Environment) -> Proposal | None:
    symbol = rng.choice(sorted(_broker(environment).stocks))
    return Proposal(f"What is {symbol} trading at right now?", (call("get_stock_info", symbol=symbol),))


def buy_at_market(rng: random.Random, environment: Environment) -> Proposal | None:
    broker = _broker(environment)
    symbol, amount = rng.choice(sorted(broker.stocks)), rng.randint(1, 10)
    price = broker.stocks[symbol]["price"]
    return Proposal(
        f"Buy {amount} shares of {symbol} at its current price.",
        (
            call("get_stock_info", symbol=symbol),
            call("place_order", order_type="Buy", symbol=symbol, price=price, amount=amount),
        ),
        vague=f"Buy some shares of {symbol} at its current price.",
        detail=f"I want {amount} shares.",
    )


def deposit(rng: random.Random, environment: Environment) -> Proposal | None:
    amount = float(rng.randrange(100, 5_000, 50))
    return Proposal(f"Deposit {amount} dollars into my trading account.", (call("fund_account", amount=amount),))


def withdraw(rng: random.Random, environment: Environment) -> Proposal | None:
    amount = float(rng.randrange(50, 1_000, 50))
    return Proposal(f"Withdraw {amount} dollars from my account.", (call("withdraw_funds", amount=amount),))


# ---- VehicleControlAPI ------------------------------------------------------------------------------------------

_DOORS = ("driver", "passenger", "rear_left", "rear_right")
_CITIES = ("Rivermist", "Stonebrook", "Maplecrest", "Silverpine", "Shadowridge", "Sunset Valley", "Oakendale")


def vehicle_scenario(rng: random.Random) -> dict[str, Any]:
    return {
        "fuelLevel": round(rng.uniform(2, 40), 1),
        "batteryVoltage": round(rng.uniform(12.0, 12.8), 1),
        "engineState": "stopped",
        "doorStatus": {door: rng.choice(("locked", "unlocked")) for door in _DOORS},
        "acTemperature": float(rng.randint(18, 26)),
        "fanSpeed": rng.randint(10, 60),
        "acMode": rng.choice(("auto", "cool", "heat")),
        "humidityLevel": float(rng.randint(30, 60)),
        "headLightStatus": rng.choice(("on", "off")),
        "parkingBrakeStatus": "released",
        "brakePedalStatus": "released",
        "distanceToNextVehicle": float(rng.randint(30, 80)),
    }


def _car(environment: Environment) -> Any:
    return environment.instances["VehicleControlAPI"]


def lock_all(rng: random.Random, environment: Environment) -> Proposal | None:
    return Proposal("Lock all four doors.", (call("lockDoors", unlock=False, door=list(_DOORS)),))


def unlock_one(rng: random.Random, environment: Environment) -> Proposal | None:
    door = rng.choice(_DOORS)
    return Proposal(
        f"Unlock the {door.replace('_', ' ')} door.",
        (call("lockDoors", unlock=True, door=[door]),),
        vague="Unlock one of the doors for me.",
        detail=f"The {door.replace('_', ' ')} one.",
    )


def headlights(rng: random.Random, environment: Environment) -> Proposal | None:
    mode = "off" if _car(environment).headLightStatus == "on" else "on"
    return Proposal(f"Turn the headlights {mode}.", (call("setHeadlights", mode=mode),))


def refuel(rng: random.Random, environment: Environment) -> Proposal | None:
    room = 50 - _car(environment).fuelLevel
    if room < 2:
        return None
    amount = float(rng.randint(1, int(room)))
    return Proposal(f"Add {amount} gallons of fuel.", (call("fillFuelTank", fuelAmount=amount),))


def cool_down(rng: random.Random, environment: Environment) -> Proposal | None:
    temperature = float(rng.randint(16, 24))
    return Proposal(
        f"Set the air conditioning to {temperature} degrees Celsius.",
        (call("adjustClimateControl", temperature=temperature, unit="celsius"),),
    )


def start_car(rng: random.Random, environment: Environment) -> Proposal | None:
    return Proposal(
        "Lock the doors, press the brake all the way and start the engine.",
        (
            call("lockDoors", unlock=False, door=list(_DOORS)),
            call("pressBrakePedal", pedalPosition=1.0),
            call("startEngine", ignitionMode="START"),
        ),
    )


def litres(rng: random.Random, environment: Environment) -> Proposal | None:
    liters = float(rng.randint(5, 120))
    return Proposal(f"How many gallons are {liters} liters?", (call("liter_to_gallon", liter=liters),))


def navigate(rng: random.Random, environment: Environment) -> Proposal | None:
    street = f"{rng.randint(10, 999)} {rng.choice(_WORDS).capitalize()} Street, {rng.choice(_CITIES)}"
    return Proposal(f"Navigate to {street}.", (call("set_navigation", destination=street),))


# ---- TravelAPI --------------------------------------------------------------------------------------------------

_AIRPORT_CITIES = ("San Francisco", "Los Angeles", "New York", "Chicago", "Boston", *_CITIES[:4])
_AIRPORTS = ("SFO", "LAX", "JFK", "ORD", "BOS")
_CURRENCIES = ("EUR", "JPY", "GBP", "CAD", "AUD", "INR", "MXN")


def travel_scenario(rng: random.Random) -> dict[str, Any]:
    cards = {
        str(rng.randint(10**11, 10**12 - 1)): {
            "card_number": str(rng.randint(10**15, 10**16 - 1)),
            "expiration_date": f"{rng.randint(1, 12):02d}/{rng.randint(2027, 2031)}",
            "cardholder_name": person(rng),
            "card_verification_number": rng.randint(100, 999),
            "balance": money(rng, 1_000, 20_000),
        }
        for _ in range(rng.randint(1, 2))
    }
    return {
        "random_seed": rng.randint(1, 10**6),
        "credit_card_list": cards,
        "booking_record": {},
        "access_token": f"tok{rng.randint(10**5, 10**6 - 1)}",
        "token_type": "Bearer",
        "token_expires_in": 3600,
        "token_scope": "read_write",
        "user_first_name": person(rng),
        "user_last_name": person(rng),
        "budget_limit": None,
    }


def _travel(environment: Environment) -> Any:
    return environment.instances["TravelAPI"]


def nearest_airport(rng: random.Random, environment: Environment) -> Proposal | None:
    city = rng.choice(_AIRPORT_CITIES)
    return Proposal(f"Which airport is closest to {city}?", (call("get_nearest_airport_by_city", location=city),))


def exchange(rng: random.Random, environment: Environment) -> Proposal | None:
    currency, value = rng.choice(_CURRENCIES), float(rng.randrange(50, 3_000, 10))
    return Proposal(
        f"How much is {value} USD in {currency}?",
        (call("compute_exchange_rate", base_currency="USD", target_currency=currency, value=value),),
    )


def flight_cost(rng: random.Random, environment: Environment) -> Proposal | None:
    origin, destination = rng.sample(_AIRPORTS, 2)
    date, travel_class = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", rng.choice(("economy", "business"))
    return Proposal(
        f"What does a {travel_class} flight from {origin} to {destination} cost on {date}?",
        (
            call(
                "get_flight_cost",
                travel_from=origin,
                travel_to=destination,
                travel_date=date,
                travel_class=travel_class,
            ),
        ),
    )


def budget(rng: random.Random, environment: Environment) -> Proposal | None:
    token, limit = _travel(environment).access_token, float(rng.randrange(500, 8_000, 100))
    return Proposal(
        f"My access token is {token}. Set my travel budget to {limit} dollars.",
        (call("set_budget_limit", access_token=token, budget_limit=limit),),
        vague=f"My access token is {token}. Please set a travel budget for me.",
        detail=f"Make it {limit} dollars.",
    )


def card_balance(rng: random.Random, environment: Environment) -> Proposal | None:
    travel = _travel(environment)
    card = rng.choice(sorted(travel.credit_card_list))
    return Proposal(
        f"With access token {travel.access_token}, check the balance of my card {card}.",
        (call("get_credit_card_balance", access_token=travel.access_token, card_id=card),),
    )


def book(rng: random.Random, environment: Environment) -> Proposal | None:
    travel = _travel(environment)
    card = rng.choice(sorted(travel.credit_card_list))
    origin, destination = rng.sample(_AIRPORTS, 2)
    date = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return Proposal(
        f"Book an economy flight from {origin} to {destination} on {date} with card {card}; "
        f"my access token is {travel.access_token}.",
        (
            call(
                "book_flight",
                access_token=travel.access_token,
                card_id=card,
                travel_date=date,
                travel_from=origin,
                travel_to=destination,
                travel_class="economy",
            ),
        ),
    )


SCENARIOS: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "GorillaFileSystem": file_system_scenario,
    "MessageAPI": messaging_scenario,
    "TwitterAPI": posting_scenario,
    "TicketAPI": ticket_scenario,
    "TradingBot": trading_scenario,
    "TravelAPI": travel_scenario,
    "VehicleControlAPI": vehicle_scenario,
}
ACTIONS: dict[str, tuple[Action, ...]] = {
    "GorillaFileSystem": (
        make_folder,
        write_file,
        enter_folder,
        move_file,
        copy_file,
        count_lines,
        search_file,
        show_file,
        remove_file,
        leave_folder,
    ),
    "MathAPI": (add_numbers, average, raise_power, root_with_digits, share_of, sum_then_round, convert_length),
    "MessageAPI": (message_login, send_note, add_contact, search_inbox, view_sent),
    "TwitterAPI": (posting_login, post, follow, comment_on, mention_someone, retweet),
    "TicketAPI": (ticket_login, open_ticket, close_ticket, resolve_ticket, reprioritise),
    "TradingBot": (watch_stock, unwatch_stock, quote, buy_at_market, deposit, withdraw),
    "TravelAPI": (nearest_airport, exchange, flight_cost, budget, card_balance, book),
    "VehicleControlAPI": (lock_all, unlock_one, headlights, refuel, cool_down, start_car, litres, navigate),
}


def succeeded(result: CallResult) -> bool:
    """Whether a call did what it was asked: no error result, no ``error`` key, no ``False`` status."""
    if result.error or result.text.startswith(("Error", '["Error')):
        return False
    try:
        value = json.loads(result.text)
    except ValueError:
        return True
    if not isinstance(value, dict):
        return True
    failed_status = any(value.get(key) is False for key in value if any(part in key for part in _STATUS_KEYS))
    return "error" not in value and not failed_status


def replay(classes: Sequence[str], config: dict[str, Any], turns: Sequence[Sequence[Call]]) -> Environment:
    """A fresh environment after the ground truth of ``turns``."""
    environment = Environment(classes, config)
    for calls in turns:
        for item in calls:
            environment.call(item["name"], item["arguments"])
    return environment


class _TaskBuilder:
    """Turns of one task under construction (see the module docstring)."""

    def __init__(self, rng: random.Random, classes: tuple[str, ...], kind: str) -> None:
        self.rng, self.classes, self.kind = rng, classes, kind
        self.config = {name: SCENARIOS[name](rng) for name in classes if name not in STATELESS_CLASSES}
        self.turns: list[list[dict[str, str]]] = []
        self.truth: list[list[Call]] = []
        self.missed: dict[int, tuple[str, ...]] = {}
        self.special_done = kind == "base"

    def propose(self) -> Proposal | None:
        """One proposal whose calls run cleanly after the task so far, or None."""
        environment = replay(self.classes, self.config, self.truth)
        action = self.rng.choice(ACTIONS[self.rng.choice(self.classes)])
        proposal = action(self.rng, environment)
        if proposal is None or not all(succeeded(environment.call(c["name"], c["arguments"])) for c in proposal.calls):
            return None
        return proposal

    def add(self, proposal: Proposal, special: bool) -> bool:
        """Add the proposal as one turn (two for a special turn); False when it cannot be the special turn."""
        calls = list(proposal.calls)
        if not special:
            self.turns.append([{"role": "user", "content": proposal.text}])
            self.truth.append(calls)
            return True
        if self.kind == "miss_param" and proposal.vague:
            self.turns += [
                [{"role": "user", "content": proposal.vague}],
                [{"role": "user", "content": proposal.detail}],
            ]
            self.truth += [[], calls]
            return True
        used = {item["name"] for turn in self.truth for item in turn}
        hidden = calls[0]["name"]
        if self.kind == "miss_func" and hidden not in used:
            self.turns += [[{"role": "user", "content": proposal.text}], []]
            self.truth += [[], calls]
            self.missed[len(self.turns) - 1] = (hidden,)
            return True
        return False

    def task(self, task_id: str) -> MultiTurnTask:
        return MultiTurnTask(
            task_id=task_id,
            involved_classes=self.classes,
            initial_config=self.config,
            turns=tuple(tuple(turn) for turn in self.turns),
            ground_truth=tuple(tuple(turn) for turn in self.truth),
            missed_functions=self.missed,
            source=f"generated:{self.kind}",
        )


def generate_task(
    seed: int, index: int, classes: Sequence[str], min_turns: int, max_turns: int
) -> MultiTurnTask | None:
    """Task ``index`` of the stream for ``seed`` (deterministic), or None when no valid task came out of the draws."""
    rng = keyed_rng(seed, "multiturn_task", index)
    primary = rng.choice(list(classes))
    others = [name for name in classes if name != primary]
    involved = (primary, rng.choice(others)) if others and rng.random() < SECOND_CLASS_PROBABILITY else (primary,)
    builder = _TaskBuilder(rng, involved, rng.choices(KINDS, KIND_WEIGHTS)[0])
    target = rng.randint(min_turns, max_turns)
    special_turn = rng.randrange(target - 1) if builder.kind != "base" and target > 1 else None
    for _ in range(MAX_PROPOSALS_PER_TASK):
        if len(builder.turns) >= target:
            break
        proposal = builder.propose()
        if proposal is not None:
            special = not builder.special_done and len(builder.turns) >= (special_turn or 0)
            if builder.add(proposal, special) and special:
                builder.special_done = True
    if len(builder.turns) < min_turns or not builder.special_done:
        return None
    task = builder.task(f"gen_{seed}_{index:06d}")
    trajectory = [[list(calls)] if calls else [] for calls in task.ground_truth]
    return task if check_episode(task, trajectory).valid else None


def generate_tasks(
    count: int, seed: int, classes: Sequence[str], min_turns: int, max_turns: int
) -> Iterator[MultiTurnTask]:
    """``count`` tasks (draws that yield no valid task are skipped; the stream index keeps counting)."""
    produced, index = 0, 0
    while produced < count:
        task = generate_task(seed, index, classes, min_turns, max_turns)
        index += 1
        if task is not None:
            produced += 1
            yield task


def task_stats(tasks: Sequence[MultiTurnTask]) -> dict[str, Any]:
    """Counts for ``stats.json``: tasks per class and kind, turns and calls."""
    return {
        "tasks": len(tasks),
        "by_class": dict(sorted(Counter(name for task in tasks for name in task.involved_classes).items())),
        "by_kind": dict(Counter(task.source.split(":", 1)[1] for task in tasks)),
        "turns": dict(sorted(Counter(task.num_turns for task in tasks).items())),
        "ground_truth_calls": sum(len(calls) for task in tasks for calls in task.ground_truth),
        "functions_used": len({item["name"] for task in tasks for calls in task.ground_truth for item in calls}),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Generate multi-turn tasks over BFCL's backends (no BFCL item).")
    parser.add_argument("--output-dir", type=Path, required=True, help="writes tasks.jsonl, train/val.parquet, stats")
    parser.add_argument("--tasks", type=positive_int, default=2000, help="number of tasks (2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the whole stream (0)")
    parser.add_argument("--classes", nargs="+", default=list(BACKEND_STEMS), choices=list(BACKEND_STEMS))
    parser.add_argument("--min-turns", type=positive_int, default=2, help="fewest user turns per task (2)")
    parser.add_argument(
        "--max-turns",
        type=positive_int,
        default=4,
        help="most user turns per task, before a miss_param / miss_func turn adds one (4)",
    )
    parser.add_argument("--val-ratio", type=ratio, default=0.1, help="fraction of tasks in val.parquet (0.1)")
    args = parser.parse_args(argv)
    if args.min_turns > args.max_turns:
        parser.error("--min-turns must not exceed --max-turns")
    tasks = list(generate_tasks(args.tasks, args.seed, args.classes, args.min_turns, args.max_turns))
    write_tasks(args.output_dir / "tasks.jsonl", tasks)
    rows = write_task_rows(tasks, args.output_dir, hash_task_split(args.seed, args.val_ratio), lambda _: DATA_SOURCE)
    stats = {"seed": args.seed, "classes": args.classes, **task_stats(tasks), "rows": rows["rows"]}
    write_json_atomic(args.output_dir / "stats.json", stats)
    print(json.dumps(stats, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
