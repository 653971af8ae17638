"""Analyses over costed models: compare, sweep, diff, budgets, guideline lint, schema."""
