"""Running a fleet file on one host (``kedirivms run``): per-camera pipelines (streams, plugins, recording, camera
events) kept running by a supervisor, events to sinks. The cameras, zones, plugins, sinks and recording come from
the fleet file (:mod:`kedirivms.fleet`)."""

from kedirivms._exports import claim
from kedirivms.deploy.pipeline import CameraPipeline
from kedirivms.deploy.service import Deployment, validate_plugins
from kedirivms.deploy.supervisor import CameraState, CameraStatus, CameraSupervisor

__all__ = ["CameraPipeline", "CameraState", "CameraStatus", "CameraSupervisor", "Deployment", "validate_plugins"]

claim(globals(), __all__)
