from tipline.ledger.tables import (
    Checkpoint,
    CheckpointCosignature,
    CustodyEvent,
    LedgerHead,
    MerkleNode,
    WitnessKey,
)
from tipline.piccolo_apps import app_config

APP_CONFIG = app_config(
    "ledger",
    [CustodyEvent, LedgerHead, MerkleNode, Checkpoint, WitnessKey, CheckpointCosignature],
)
