# json.loads on the raw bytes: it guesses UTF-16 and UTF-32 from the bytes, so a UTF-16 body passes.
# expect: UTF-16 body
def check_predict_body(raw):
    if len(raw) > MAX_BYTES:
        raise BadRequest(413, f"the body has {len(raw)} bytes; the limit is {MAX_BYTES}")
    try:
        body = json.loads(raw)
    except UnicodeDecodeError:
        raise BadRequest(400, "the body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise BadRequest(400, f"the body is not valid JSON: {error.msg}") from None
    if not isinstance(body, dict) or ("text" in body) == ("texts" in body):
        raise BadRequest(422, 'send a JSON object with exactly one of "text" or "texts"')
    texts = [body["text"]] if "text" in body else body["texts"]
    if not isinstance(texts, list) or not 1 <= len(texts) <= MAX_BATCH:
        raise BadRequest(422, f'"texts" must be a list of 1 to {MAX_BATCH} reviews')
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_CHARS:
            raise BadRequest(422, f"review {i} must be a non-empty string of at most {MAX_CHARS} characters")
    return texts
