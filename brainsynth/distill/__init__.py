"""Distilled student of the anatomy sampler (docs/MODEL.md, "Student").

The teacher integrates the velocity field by scaling and squaring, u = exp(v). The student
predicts the same displacement in one pass, u ≈ v + D(MLP(features)): `data` makes the
(z, conditions) → u − v pairs with the teacher's own code, `student` holds the network (PyTorch
and a numpy forward), `train` fits it, `export_student` writes it in TensorFlow.js weights
format into the model folder, `evaluate` measures label fidelity against the teacher.
"""
