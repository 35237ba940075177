"""Sharing of data elements between departments: what a viewer sees of each element (`sight`),
grants applied for and decided (`grants`), and changes proposed to an element's owner
(`proposals`)."""
