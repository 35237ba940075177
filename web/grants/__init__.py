"""Grant pages (分级授权): a department's applications and the form to apply, the owner's inbox."""
