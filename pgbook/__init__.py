"""pgbook: the helper package of *Policy Gradients, Executably*.

Modules, one concept each: ``mdp`` (tabular MDPs and example problems), ``policies`` (softmax
policies and their score functions, and a Gaussian policy for continuous actions), ``exact``
(values, occupancy, gradients and Fisher matrices by linear solves, for one policy or a batch),
``sampling`` (vectorized rollouts), ``estimators`` (Monte Carlo policy gradients), ``envs`` (the
tabular problems as gymnasium environments), ``symbolic`` (executable derivations), ``interactive``
(slider figures, live and static), ``tables`` (tables of results for notebooks), ``validation``
(argument checks shared by the modules).
"""

__version__ = "0.1.0"
