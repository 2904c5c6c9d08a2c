"""QA: the scenario library, its runner (`egovsim replay`), reports, and gateway cassettes."""
