"""The exchange with client systems (对接系统): who they are, what they pull, what they push.

A client system reads and writes as its department (`clients.client_viewer`): the permission
table and the grants decision point (`runtime.masking`) decide for it exactly as for the
department's people. Like the rest of `runtime`, nothing here touches HTTP: `web.api` parses
requests and calls these functions.
"""
