"""Design time, pure: specs, the catalog, check characters, validation and file reading.

Rule: `builder` imports nothing else of this project (no `runtime`, no `web`), no Flask and no
database session. It takes data in and gives verdicts out.
"""
