"""What charts and pages show, as opposed to what core computes (DESIGN.md: ``core/viz/``). So far:
``format`` (number formats, the one place)."""
