"""Sample KFP v2 pipelines: features, training (validation, sweep, promotion, deployment), drift.

Library modules here hold the logic; `pipelines.kfp_components` wraps them as lightweight
components whose bodies stay thin, and `pipelines.definitions` wires the pipelines.
"""
