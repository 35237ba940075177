"""对接系统 pages (admin): client systems of the exchange API, their tokens, issued once and revocable."""
