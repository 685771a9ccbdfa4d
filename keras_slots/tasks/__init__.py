"""Training tasks: what the task-independent loop trains, on which features, with which loss."""

from keras_slots.tasks.base import Task
from keras_slots.tasks.object_discovery import ObjectDiscovery
