"""Convert stage: other tools' specs to native `slocompiler/v1` specs and back.

`sloth` rewrites Sloth's specs and CRDs as text, keeping comments (ruamel.yaml round trip);
`openslo` maps OpenSLO v1 objects to native specs, and native specs to OpenSLO, through the
compiled model. `slocompiler convert` (cli/convert.py) calls them.
"""
