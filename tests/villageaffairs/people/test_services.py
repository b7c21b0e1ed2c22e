"""Identity numbers: checked (GB 11643 check digit), stored only as a keyed hash and a
masked form, found again by the hash; relations read both ways."""

from __future__ import annotations

import pytest

from tests.villageaffairs.support import KEY, id_number, make_county, user
from tipline.auth import Role
from tipline.orgunits.exceptions import OutsideYourUnit
from tipline.settings import Settings
from villageaffairs.people import services
from villageaffairs.people.exceptions import BadIdNumber, BadRelation, PersonExists
from villageaffairs.people.tables import Person


def test_check_digit_and_mask() -> None:
    number = id_number(5)
    assert services.normalise_id_number(number.lower()) == number.upper()
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
    with pytest.raises(BadIdNumber):
        services.normalise_id_number(wrong)
    with pytest.raises(BadIdNumber):
        services.normalise_id_number(number[:-1])
    assert services.mask_id_number(number) == number[:4] + "*" * 10 + number[-4:]
    assert services.hash_id_number(KEY, number) != services.hash_id_number(b"x" * 32, number)


async def test_no_clear_number_is_stored(tipline_db: Settings) -> None:
    c = await make_county()
    clerk = user(Role.township_staff, c.town_a)
    number = id_number()
    person = await services.create_person(clerk, KEY, c.village_a1, " 赵敏 ", "female", number)
    assert person.name == "赵敏" and person.id_masked.startswith(number[:4])
    rows = await Person.select()
    assert all(number not in str(value) for row in rows for value in row.values())
    with pytest.raises(PersonExists):
        await services.create_person(clerk, KEY, c.village_a2, "赵敏", "female", number)
    found = await services.find_by_id_number(KEY, number)
    assert found is not None and found.id == person.id
    with pytest.raises(OutsideYourUnit):
        await services.create_person(
            user(Role.township_staff, c.town_b, 2), KEY, c.village_a1, "钱", "male", id_number()
        )
    other = await services.create_person(clerk, KEY, c.village_a1, "孙", "male", id_number())
    with pytest.raises(BadRelation):
        await services.add_relation(clerk, person.id, person.id, "spouse")
    await services.add_relation(clerk, person.id, other.id, "spouse")
    await services.add_relation(clerk, other.id, person.id, "spouse")
    assert [r.person.id for r in await services.near_relatives(other.id)] == [person.id]
    assert [r.kind.value for r in await services.near_relatives(person.id)] == ["spouse"]
