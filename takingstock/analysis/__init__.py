"""The findings: breakdowns by origin and era, designs, supply chains, releases, the claims ledger.

Modules here work on the frames ``takingstock.data`` hands over and return tidy frames; they draw
nothing and write no page.
"""
