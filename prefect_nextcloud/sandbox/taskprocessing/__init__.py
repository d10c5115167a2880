"""Task Processing: task types, fake providers, scheduling, workers and the OCS controllers.

Task types and providers as data (:mod:`.providers`, :mod:`.tasktypes`, :mod:`.catalog`), what
the fake providers compute (:mod:`.fakes`, :mod:`.media`), validation at schedule time
(:mod:`.validation`), running a provider (:mod:`.processing`, :mod:`.worker`,
:mod:`.runtimes`), webhooks (:mod:`.webhooks`), and the ``taskprocessing`` and deprecated
``textprocessing`` OCS controllers (:mod:`.controller`, :mod:`.textprocessing`).
"""
