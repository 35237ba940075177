"""The reviewer's admission (准入审核) pages."""
