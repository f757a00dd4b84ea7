"""pgbook: the helper package of *Policy Gradients, Executably*.

Modules, one concept each: ``mdp`` (tabular MDPs and example problems), ``policies`` (softmax
policies and their score functions), ``exact`` (values, occupancy, gradients and Fisher matrices by
linear solves), ``sampling`` (vectorized rollouts), ``estimators`` (Monte Carlo policy gradients),
``symbolic`` (executable derivations), ``interactive`` (slider figures, live and static).
"""

__version__ = "0.1.0"
