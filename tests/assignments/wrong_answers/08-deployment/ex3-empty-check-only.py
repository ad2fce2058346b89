# Checks that a review is non-empty with `if not text`, so spaces pass, and never checks its type.
# expect: a number as text
def check_predict_body(raw):
    if len(raw) > MAX_BYTES:
        raise BadRequest(413, f"the body has {len(raw)} bytes; the limit is {MAX_BYTES}")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest(400, "the body is not UTF-8 JSON") from None
    if not isinstance(body, dict) or ("text" in body) == ("texts" in body):
        raise BadRequest(422, 'send a JSON object with exactly one of "text" or "texts"')
    texts = [body["text"]] if "text" in body else body["texts"]
    if not isinstance(texts, list) or not 1 <= len(texts) <= MAX_BATCH:
        raise BadRequest(422, f'"texts" must be a list of 1 to {MAX_BATCH} reviews')
    for i, text in enumerate(texts):
        if not text or len(str(text)) > MAX_CHARS:
            raise BadRequest(422, f"review {i} must be a non-empty string of at most {MAX_CHARS} characters")
    return [str(t) for t in texts]
