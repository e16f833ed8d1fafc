def valid(serializer_class, data) -> dict:
    """The validated input, or a 400 with each field's message (DRF's ValidationError)."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
