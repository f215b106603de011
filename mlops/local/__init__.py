"""The local platform: real servers on 127.0.0.1 with their state under `.mlops/`.

`mlops.local.platform.LocalPlatform` is the API; `mlops.local_cli` is the command.
"""
