"""Anomaly detection: nodes remember where they were created, and a backward
that produces NaN names the forward op responsible."""

_enabled = [False]


def is_anomaly_enabled():
    return _enabled[0]


class set_detect_anomaly:
    def __init__(self, mode, check_nan=True):
        self.prev = _enabled[0]
        _enabled[0] = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _enabled[0] = self.prev


class detect_anomaly:
    def __init__(self, check_nan=True):
        pass

    def __enter__(self):
        self.prev = _enabled[0]
        _enabled[0] = True
        return self

    def __exit__(self, *exc):
        _enabled[0] = self.prev

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*a, **k):
            with detect_anomaly():
                return func(*a, **k)
        return wrapper
