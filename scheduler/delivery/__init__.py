"""Delivery of the outbox: outcome rules (pure), pacing, the records of outcomes, the worker."""

from scheduler.delivery.records import DeliveryStats, OnBlocked
from scheduler.delivery.rules import Limits, retry_delay
from scheduler.delivery.worker import DeliveryWorker

__all__ = ["DeliveryStats", "DeliveryWorker", "Limits", "OnBlocked", "retry_delay"]
