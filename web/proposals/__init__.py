"""The queue of changes proposed to an element's owner (待审变更), and how pages show proposals."""
