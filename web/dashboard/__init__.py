"""The burden dashboard (减负看板)."""
