"""The platform's runtime library: what the pipelines, the pipeline image, the Pulumi
program and the `mlops` command share at run time.

* `model_ops`: champion/challenger promotion and rollback on the MLflow registry.
* `inference_service`: the one KServe InferenceService template.
* `pipelines_env`: the environment every pipeline run reads (the contract between the
  Kubeflow Pipelines slice, the local platform and the pipelines).
* `local_serving`: serving the champion on the local model server.
* `errors`: the errors every part turns into one line.

It imports none of them: the pipeline image copies this package alone.
"""
