"""The demo county's competent authorities (made up, but shaped like a real county's)."""

from __future__ import annotations

from tipline.authorities.schemas import AuthorityIn, AuthorityKind

DEMO_AUTHORITIES = (
    AuthorityIn(
        name="{county}公安局",
        kind=AuthorityKind.public_security,
        contact_person="刘警官（示范）",
        phone="0000-1100001",
        address="{county}人民路1号",
    ),
    AuthorityIn(
        name="{county}公安局刑事侦查大队",
        kind=AuthorityKind.public_security,
        contact_person="陈队长（示范）",
        phone="0000-1100002",
        address="{county}人民路1号",
    ),
    AuthorityIn(
        name="中共{county}纪律检查委员会、{county}监察委员会",
        kind=AuthorityKind.discipline_supervision,
        contact_person="王主任（示范）",
        phone="0000-1200001",
        address="{county}行政中心3号楼",
    ),
    AuthorityIn(
        name="{county}人民检察院",
        kind=AuthorityKind.procuratorate,
        contact_person="赵检察官（示范）",
        phone="0000-1300001",
        address="{county}检察路8号",
    ),
    AuthorityIn(
        name="{county}人民法院",
        kind=AuthorityKind.court,
        contact_person="孙法官（示范）",
        phone="0000-1400001",
        address="{county}法院街2号",
    ),
    AuthorityIn(
        name="{county}市场监督管理局",
        kind=AuthorityKind.market_regulation,
        contact_person="周科长（示范）",
        phone="0000-1500001",
        address="{county}建设路16号",
    ),
    AuthorityIn(
        name="{county}自然资源局",
        kind=AuthorityKind.natural_resources,
        contact_person="吴科长（示范）",
        phone="0000-1600001",
        address="{county}建设路20号",
    ),
    AuthorityIn(
        name="{county}交通运输局",
        kind=AuthorityKind.other,
        contact_person="郑科长（示范）",
        phone="0000-1700001",
        address="{county}交通路5号",
    ),
)


async def demo(county_name: str) -> int:
    """Register the demo authorities unless the registry has any; returns how many."""
    import msgspec

    from tipline.authorities.services import create_authority, list_authorities
    from tipline.ledger.services import SYSTEM

    if await list_authorities():
        return 0
    for item in DEMO_AUTHORITIES:
        await create_authority(
            SYSTEM,
            msgspec.structs.replace(
                item,
                name=item.name.format(county=county_name),
                address=item.address.format(county=county_name),
            ),
        )
    return len(DEMO_AUTHORITIES)
