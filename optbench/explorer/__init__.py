"""The explorer: one offline HTML page where learning rate, a second hyperparameter, the start
point and the step are sliders over paths computed in advance by the engine ``run`` uses.

``grid`` validates and computes the grid (or reads it from a run folder), ``encode`` packs it
compactly, ``page`` writes the self-contained page from ``template.html``.
"""
