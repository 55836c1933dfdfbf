"""Inputs for the reliability and fuzz tests: bait that reaches every rule, and mutations."""
