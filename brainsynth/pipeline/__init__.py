"""Data -> model artifacts: template, shape model, calibration, appearance, lesion priors."""
