"""Reports as kept in the database: versions, the admission workflow, extraction, exports, burden figures."""
