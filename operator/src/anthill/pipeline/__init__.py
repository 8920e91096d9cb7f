"""MedallionPipeline on Databricks: the desired job (pure), its comparison with what is there, the Jobs client."""
