"""The people register: persons, their declared relations, and village posts.

Identity numbers are checked (GB 11643 check digit), then kept only as a keyed hash
(HMAC-SHA256 under ``server_secret(settings, "person-id.key")``) and a masked form.
The hash finds the same person again (no double registration, vetting results
follow the person); without the key file it cannot be reversed by trying all
numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from tipline import db
from tipline.auth import CurrentUser
from tipline.ledger.services import Actor, append_event
from tipline.orgunits.services import require_visible
from tipline.settings import Settings
from tipline.web.security import server_secret
from villageaffairs.people.exceptions import (
    BadGender,
    BadIdNumber,
    BadRelation,
    NameRequired,
    PersonExists,
    PersonNotFound,
    PostNotFound,
)
from villageaffairs.people.schemas import PersonOut, PostOut, RelativeOut
from villageaffairs.people.tables import Gender, Person, Post, PostKind, Relation, RelationKind

ID_KEY_FILE = "person-id.key"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_key(settings: Settings) -> bytes:
    return server_secret(settings, ID_KEY_FILE)


def normalise_id_number(number: str) -> str:
    """The 18-character number in upper case, or :class:`BadIdNumber`."""
    text = (number or "").strip().upper()
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise BadIdNumber()
    total = sum(int(d) * w for d, w in zip(text[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != text[17]:
        raise BadIdNumber()
    return text


def check_digit(first17: str) -> str:
    """The check character for 17 digits (used by the demo data and tests)."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def hash_id_number(key: bytes, number: str) -> str:
    return hmac.new(key, normalise_id_number(number).encode(), hashlib.sha256).hexdigest()


def mask_id_number(number: str) -> str:
    text = normalise_id_number(number)
    return text[:4] + "*" * 10 + text[-4:]


async def get_person(person_id: int) -> PersonOut:
    row = await Person.select().where(Person.id == person_id).first()
    if row is None:
        raise PersonNotFound(person_id=person_id)
    return PersonOut.from_row(row)


async def require_person(user: CurrentUser, person_id: int) -> PersonOut:
    """The person, if ``user`` may see their village."""
    person = await get_person(person_id)
    await require_visible(user, person.village_id)
    return person


async def find_by_id_number(key: bytes, number: str) -> PersonOut | None:
    row = await Person.select().where(Person.id_hash == hash_id_number(key, number)).first()
    return PersonOut.from_row(row) if row else None


async def create_person(
    user: CurrentUser, key: bytes, village_id: int, name: str, gender: str, id_number: str
) -> PersonOut:
    """Register a villager; the clear identity number is dropped after hashing."""
    await require_visible(user, village_id)
    clean = (name or "").strip()[:50]
    if not clean:
        raise NameRequired()
    sex = Gender(gender) if gender in tuple(Gender) else None
    if sex is None:
        raise BadGender()
    digest = hash_id_number(key, id_number)
    masked = mask_id_number(id_number)
    async with db.write_transaction():
        if await Person.exists().where(Person.id_hash == digest):
            raise PersonExists(masked=masked)
        rows = await Person.insert(
            Person(
                name=clean,
                gender=sex.value,
                id_hash=digest,
                id_masked=masked,
                village=village_id,
                created_by=user.account_id,
            )
        ).returning(Person.id)
        person_id = rows[0]["id"]
        await append_event(
            Actor.account(user.account_id),
            "va_person.created",
            "va_person",
            person_id,
            {"village_id": village_id},
        )
    return await get_person(person_id)


async def people_of_village(village_id: int) -> list[PersonOut]:
    rows = await Person.select().where(Person.village == village_id).order_by(Person.id)
    return [PersonOut.from_row(row) for row in rows]


async def add_relation(user: CurrentUser, person_a: int, person_b: int, kind: str) -> None:
    if person_a == person_b or kind not in tuple(RelationKind):
        raise BadRelation()
    await require_person(user, person_a)
    await require_person(user, person_b)
    async with db.write_transaction():
        exists = await Relation.exists().where(
            ((Relation.person_a == person_a) & (Relation.person_b == person_b))
            | ((Relation.person_a == person_b) & (Relation.person_b == person_a))
        )
        if not exists:
            await Relation.insert(Relation(person_a=person_a, person_b=person_b, kind=kind))
            await append_event(
                Actor.account(user.account_id),
                "va_person.relation_added",
                "va_person",
                person_a,
                {"other": person_b, "kind": kind},
            )


async def near_relatives(person_id: int) -> list[RelativeOut]:
    """Everyone declared related to the person, both directions. Spouses and lineal
    relatives are near relatives too (近亲属), so every relation kind counts."""
    rows = await Relation.select().where(
        (Relation.person_a == person_id) | (Relation.person_b == person_id)
    )
    others = {
        (row["person_b"] if row["person_a"] == person_id else row["person_a"]): row["kind"]
        for row in rows
    }
    if not others:
        return []
    people = await Person.select().where(Person.id.is_in(list(others)))
    return [
        RelativeOut(person=PersonOut.from_row(p), kind=RelationKind(others[p["id"]]))
        for p in sorted(people, key=lambda p: p["id"])
    ]


def _post_out(row: dict[str, object], name: str) -> PostOut:
    return PostOut(
        id=int(row["id"]),  # type: ignore[call-overload]
        village_id=int(row["village"]),  # type: ignore[call-overload]
        person_id=int(row["person"]),  # type: ignore[call-overload]
        person_name=name,
        kind=PostKind(str(row["kind"])),
        start=row["start"],  # type: ignore[arg-type]
        end=row["end"],  # type: ignore[arg-type]
        end_reason=str(row["end_reason"]),
    )


async def add_post(
    user: CurrentUser, person_id: int, kind: str, start: dt.date, village_id: int | None = None
) -> PostOut:
    person = await require_person(user, person_id)
    post_kind = PostKind(kind)
    village = village_id or person.village_id
    await require_visible(user, village)
    async with db.write_transaction():
        rows = await Post.insert(
            Post(village=village, person=person_id, kind=post_kind.value, start=start)
        ).returning(Post.id)
        await append_event(
            Actor.account(user.account_id),
            "va_post.created",
            "va_post",
            rows[0]["id"],
            {"village_id": village, "kind": post_kind.value},
        )
        row = await Post.select().where(Post.id == rows[0]["id"]).first()
    assert row is not None
    return _post_out(row, person.name)


async def end_post(actor: Actor, post_id: int, on: dt.date, reason: str) -> None:
    """End a post (joins the caller's transaction; used by the look-back's removal)."""
    async with db.write_transaction():
        changed = (
            await Post.update({Post.end: on, Post.end_reason: reason})
            .where((Post.id == post_id) & Post.end.is_null())
            .returning(Post.id)
        )
        if not changed:
            raise PostNotFound(post_id=post_id)
        await append_event(actor, "va_post.ended", "va_post", post_id, {"reason": reason})


async def current_posts(
    village_id: int, kinds: list[PostKind] | None = None, on: dt.date | None = None
) -> list[PostOut]:
    """Posts held in the village on ``on`` (today by default)."""
    day = on or dt.date.today()
    query = Post.select(*Post.all_columns(), Post.person.name.as_alias("person_name")).where(
        (Post.village == village_id) & (Post.start <= day) & (Post.end.is_null() | (Post.end > day))
    )
    if kinds:
        query = query.where(Post.kind.is_in([k.value for k in kinds]))
    rows = await query.order_by(Post.id)
    return [_post_out(row, str(row["person_name"])) for row in rows]


async def holds_post(person_id: int, kinds: list[PostKind], on: dt.date | None = None) -> bool:
    """True if the person currently holds one of ``kinds`` (e.g. accountant or bookkeeper)."""
    day = on or dt.date.today()
    return await Post.exists().where(
        (Post.person == person_id)
        & Post.kind.is_in([k.value for k in kinds])
        & (Post.start <= day)
        & (Post.end.is_null() | (Post.end > day))
    )


async def is_accountant_or_bookkeeper(person_id: int, on: dt.date | None = None) -> bool:
    return await holds_post(person_id, [PostKind.accountant, PostKind.bookkeeper], on)
