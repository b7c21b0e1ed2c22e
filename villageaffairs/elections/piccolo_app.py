from tipline.piccolo_apps import app_config
from villageaffairs.elections.tables import (
    ByElection,
    ByElectionSeat,
    Candidate,
    TallyLine,
    TallyRound,
    VettingCheck,
)

APP_CONFIG = app_config(
    "va_elections", [ByElection, ByElectionSeat, Candidate, VettingCheck, TallyRound, TallyLine]
)
