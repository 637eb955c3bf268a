"""Deployments: cameras, zones, plugins, sinks and recording from one validated file (``kedirivms run``)."""

from kedirivms.deploy.config import DeployCamera, DeploymentConfig, RecordingSettings, load_deployment, parse_deployment
from kedirivms.deploy.service import CameraStatus, Deployment

__all__ = [
    "CameraStatus",
    "DeployCamera",
    "Deployment",
    "DeploymentConfig",
    "RecordingSettings",
    "load_deployment",
    "parse_deployment",
]
