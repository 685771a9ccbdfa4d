"""Training tasks: what the task-independent loop trains, on which features, with which loss.

`TASKS` maps the `task` field of a Config to its Task class; `get_task` makes one.
"""

from keras_slots.config import OBJECT_DISCOVERY, SET_PREDICTION
from keras_slots.tasks.base import Task
from keras_slots.tasks.object_discovery import ObjectDiscovery
from keras_slots.tasks.set_prediction import SetPrediction

TASKS = {OBJECT_DISCOVERY: ObjectDiscovery, SET_PREDICTION: SetPrediction}


def get_task(name):
    """A new Task for a config's task name.

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    return TASKS[name]()
