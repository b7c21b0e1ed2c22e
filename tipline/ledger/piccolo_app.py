from tipline.apps import app_config
from tipline.ledger.tables import (
    Checkpoint,
    CheckpointCosignature,
    CustodyEvent,
    LedgerHead,
    MerkleNode,
    WitnessKey,
)

APP_CONFIG = app_config(
    "ledger",
    [CustodyEvent, LedgerHead, MerkleNode, Checkpoint, WitnessKey, CheckpointCosignature],
)
