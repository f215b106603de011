"""Checks `mlops plan` runs on a planned stack beyond the policy pack's: each models a
way a real `pulumi up` fails that the mocks cannot see, and fails closed."""
