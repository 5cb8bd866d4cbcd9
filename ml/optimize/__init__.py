"""Schedule optimisation.

Single sessions (exact, Kaandorp & Koole 2007): service, session_problem, session_chains,
session_eval, session_rules, session_neighbourhood, submodular, session_search, session_report.
Weekly slot templates (MIP, OR-Tools): template_problem, template_input, template_waiting, template,
template_result, template_baseline, template_plan, template_render, template_example. Command line: cli.
"""
