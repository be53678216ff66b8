"""The store: leads, identities, accounts, events, definition versions, scores and their history."""
