"""Sharing of data elements between departments: what a viewer sees of each element (`sight`),
grants applied for and decided (`grants`), who owns an element and decides others' changes to it
(`owners`), changes proposed to the owner (`proposals`), their queue (`queue`) and hand edits routed
between the two (`edits`)."""
