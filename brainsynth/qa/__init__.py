"""Quality-assurance metrics shared by the pipeline, the teacher and the datasets."""
