"""The marker for an operation argument that was not given (left out of the request, where None
would send null). Its own module, free of pydantic, so that importing a client stays quick."""

__all__ = ["UNSET", "UnsetType"]


class UnsetType:
    def __bool__(self) -> bool:
        return False


UNSET = UnsetType()
