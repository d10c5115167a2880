"""The core task types of ``lib/public/TaskProcessing/TaskTypes`` (reference §7), as data.

Names, descriptions and slot texts are the English originals from the server source. ``since``
is the first major version that registers a type; the list is in registration order, which is
the order ``GET /tasktypes`` keeps.
"""

from __future__ import annotations

from prefect_nextcloud.sandbox.taskprocessing.providers import Shape, ShapeType, TaskTypeSpec

__all__ = ["CORE_TASK_TYPES"]

_TEXT = ShapeType.TEXT
_SYSTEM_PROMPT = Shape(
    "System prompt",
    "Define rules and assumptions that the assistant should follow during the conversation.",
    _TEXT,
)
_CHAT_MESSAGE = Shape(
    "Chat message", "Describe a task that you want the assistant to do or ask a question", _TEXT
)
_HISTORY = Shape(
    "Chat history",
    "The history of chat messages before the current message, starting with a message by the user",
    ShapeType.LIST_OF_TEXTS,
)
_TOOLS = Shape("Available tools", "The available tools in JSON format", _TEXT)
_TOOL_MESSAGE = Shape("Tool message", "The result of tool calls in the last interaction", _TEXT)
_TOOL_CALLS = Shape("Tool calls", "Tools call instructions from the model in JSON format", _TEXT)
_CONFIRMATION = Shape(
    "Confirmation",
    "Whether to confirm previously requested actions: 0 for denial and 1 for confirmation.",
    ShapeType.NUMBER,
)
_CONVERSATION_TOKEN = Shape("Conversation token", "A token representing the conversation.", _TEXT)
_NEW_CONVERSATION_TOKEN = Shape(
    "The new conversation token", "Send this along with the next interaction.", _TEXT
)
_ACTIONS = Shape(
    "Requested actions by the agent",
    "Actions that the agent would like to carry out in JSON format.",
    _TEXT,
)
_INPUT_TRANSCRIPT = Shape("Input transcript", "Transcription of the audio input", _TEXT)
_VOICE_RESPONSE = Shape(
    "Response voice message",
    "The generated voice response as part of the conversation",
    ShapeType.AUDIO,
)
_OUTPUT_TRANSCRIPT = Shape("Output transcript", "Transcription of the audio output", _TEXT)
_ATTACHMENTS_IN = Shape(
    "Input attachments", "Files attached to the message", ShapeType.LIST_OF_FILES
)
_ATTACHMENTS_OUT = Shape(
    "Output attachments", "Files produced by the assistant", ShapeType.LIST_OF_FILES
)


def _text_task(
    type_id: str,
    name: str,
    description: str,
    inputs: tuple[str, str],
    output: tuple[str, str],
    since: int = 30,
) -> TaskTypeSpec:
    """A type with one Text input ``input`` and one Text output ``output``."""
    return TaskTypeSpec(
        id=type_id,
        name=name,
        description=description,
        input_shape={"input": Shape(*inputs, _TEXT)},
        output_shape={"output": Shape(*output, _TEXT)},
        since=since,
    )


TEXT_TO_TEXT = _text_task(
    "core:text2text",
    "Free text to text prompt",
    "Runs an arbitrary prompt through a language model that returns a reply",
    ("Prompt", "Describe a task that you want the assistant to do or ask a question"),
    ("Generated reply", "The generated text from the assistant"),
)
HEADLINE = _text_task(
    "core:text2text:headline",
    "Generate a headline",
    "Generates a possible headline for a text.",
    ("Original text", "The original text to generate a headline for"),
    ("Headline", "The generated headline"),
)
TOPICS = _text_task(
    "core:text2text:topics",
    "Extract topics",
    "Extracts topics from a text and outputs them separated by commas",
    ("Original text", "The original text to extract topics from"),
    ("Topics", "The list of extracted topics"),
)
SUMMARY = _text_task(
    "core:text2text:summary",
    "Summarize",
    "Summarizes a text",
    ("Original text", "The original text to summarize"),
    ("Summary", "The generated summary"),
)
FORMALIZATION = _text_task(
    "core:text2text:formalization",
    "Formalize text",
    "Takes a text and makes it sound more formal",
    ("Input text", "Write a text that you want the assistant to formalize"),
    ("Formalized text", "The formalized text"),
)
SIMPLIFICATION = _text_task(
    "core:text2text:simplification",
    "Simplify text",
    "Takes a text and simplifies it",
    ("Input text", "Write a text that you want the assistant to simplify"),
    ("Simplified text", "The simplified text"),
)
REFORMULATION = _text_task(
    "core:text2text:reformulation",
    "Reformulate text",
    "Takes a text and reformulates it",
    ("Input text", "Write a text that you want the assistant to reformulate"),
    ("Reformulated text", "The reformulated text, written by the assistant"),
)
CHAT = TaskTypeSpec(
    id="core:text2text:chat",
    name="Chat",
    description="Chat with the assistant",
    input_shape={"system_prompt": _SYSTEM_PROMPT, "input": _CHAT_MESSAGE, "history": _HISTORY},
    output_shape={
        "output": Shape(
            "Response message", "The generated response as part of the conversation", _TEXT
        )
    },
)
TRANSLATE = TaskTypeSpec(
    id="core:text2text:translate",
    name="Translate",
    description="Translate text from one language to another",
    input_shape={
        "input": Shape("Origin text", "The text to translate", _TEXT),
        "origin_language": Shape(
            "Origin language", "The language of the origin text", ShapeType.ENUM
        ),
        "target_language": Shape(
            "Target language",
            "The desired language to translate the origin text in",
            ShapeType.ENUM,
        ),
    },
    output_shape={"output": Shape("Result", "The translated text", _TEXT)},
)
TEXT_TO_IMAGE = TaskTypeSpec(
    id="core:text2image",
    name="Generate image",
    description="Generate an image from a text prompt",
    input_shape={
        "input": Shape("Prompt", "Describe the image you want to generate", _TEXT),
        "numberOfImages": Shape(
            "Number of images", "How many images to generate", ShapeType.NUMBER
        ),
    },
    output_shape={
        "images": Shape("Output images", "The generated images", ShapeType.LIST_OF_IMAGES)
    },
)
AUDIO_TO_TEXT = TaskTypeSpec(
    id="core:audio2text",
    name="Transcribe audio",
    description="Transcribe the things said in an audio",
    input_shape={"input": Shape("Audio input", "The audio to transcribe", ShapeType.AUDIO)},
    output_shape={"output": Shape("Transcription", "The transcribed text", _TEXT)},
)
CONTEXT_WRITE = TaskTypeSpec(
    id="core:contextwrite",
    name="Context write",
    description="Writes text in a given style based on the provided source material.",
    input_shape={
        "style_input": Shape(
            "Writing style", "Demonstrate a writing style that you would like to immitate", _TEXT
        ),
        "source_input": Shape(
            "Source material",
            "The content that would like to be rewritten in the new writing style",
            _TEXT,
        ),
    },
    output_shape={
        "output": Shape(
            "Generated text",
            "The generated text with content from the source material in the given style",
            _TEXT,
        )
    },
)
GENERATE_EMOJI = _text_task(
    "core:generateemoji",
    "Emoji generator",
    "Takes text and generates a representative emoji for it.",
    ("Input text", "The text to generate an emoji for"),
    ("Generated emoji", "The generated emoji based on the input text"),
)
CHANGE_TONE = TaskTypeSpec(
    id="core:text2text:changetone",
    name="Change Tone",
    description="Change the tone of a piece of text.",
    input_shape={
        "input": Shape(
            "Input text",
            "Write a text that you want the assistant to rewrite in another tone.",
            _TEXT,
        ),
        "tone": Shape(
            "Desired tone", "In which tone should your text be rewritten?", ShapeType.ENUM
        ),
    },
    output_shape={
        "output": Shape(
            "Generated response",
            "The rewritten text in the desired tone, written by the assistant:",
            _TEXT,
        )
    },
    since=31,
)
CHAT_WITH_TOOLS = TaskTypeSpec(
    id="core:text2text:chatwithtools",
    name="Chat with tools",
    description="Chat with the language model with tool calling support.",
    input_shape={
        "system_prompt": _SYSTEM_PROMPT,
        "input": _CHAT_MESSAGE,
        "tool_message": _TOOL_MESSAGE,
        "history": _HISTORY,
        "tools": _TOOLS,
    },
    output_shape={
        "output": Shape("Generated response", "The response from the chat model", _TEXT),
        "tool_calls": _TOOL_CALLS,
    },
    since=31,
)
CONTEXT_AGENT = TaskTypeSpec(
    id="core:contextagent:interaction",
    name="ContextAgent",
    description="Chat with an agent",
    input_shape={
        "input": Shape("Chat message", "A chat message to send to the agent.", _TEXT),
        "confirmation": _CONFIRMATION,
        "conversation_token": _CONVERSATION_TOKEN,
    },
    output_shape={
        "output": Shape("Generated response", "The response from the chat model.", _TEXT),
        "conversation_token": _NEW_CONVERSATION_TOKEN,
        "actions": _ACTIONS,
    },
    since=31,
)
PROOFREAD = _text_task(
    "core:text2text:proofread",
    "Proofread",
    "Proofreads a text and lists corrections",
    ("Text", "The text to proofread"),
    ("Corrections", "The corrections that should be made in your text"),
    since=31,
)
TEXT_TO_SPEECH = TaskTypeSpec(
    id="core:text2speech",
    name="Generate speech",
    description="Generate speech from a transcript",
    input_shape={
        "input": Shape(
            "Prompt", "Write transcript that you want the assistant to generate speech from", _TEXT
        )
    },
    output_shape={"speech": Shape("Output speech", "The generated speech", ShapeType.AUDIO)},
    since=32,
)
AUDIO_CHAT = TaskTypeSpec(
    id="core:audio2audio:chat",
    name="Audio chat",
    description="Voice chat with the assistant",
    input_shape={
        "system_prompt": _SYSTEM_PROMPT,
        "input": Shape(
            "Chat voice message",
            "Describe a task that you want the assistant to do or ask a question.",
            ShapeType.AUDIO,
        ),
        "history": Shape(
            "Chat history",
            "The history of chat messages before the current message, starting with a message "
            "by the user.",
            ShapeType.LIST_OF_TEXTS,
        ),
    },
    output_shape={
        "input_transcript": _INPUT_TRANSCRIPT,
        "output": _VOICE_RESPONSE,
        "output_transcript": _OUTPUT_TRANSCRIPT,
    },
    since=32,
)
CONTEXT_AGENT_AUDIO = TaskTypeSpec(
    id="core:contextagent:audio-interaction",
    name="ContextAgent audio",
    description="Chat by voice with an agent",
    input_shape={
        "input": Shape(
            "Chat voice message",
            "Describe a task that you want the agent to do or ask a question.",
            ShapeType.AUDIO,
        ),
        "confirmation": _CONFIRMATION,
        "conversation_token": _CONVERSATION_TOKEN,
    },
    output_shape={
        "input_transcript": _INPUT_TRANSCRIPT,
        "output": _VOICE_RESPONSE,
        "output_transcript": _OUTPUT_TRANSCRIPT,
        "conversation_token": _NEW_CONVERSATION_TOKEN,
        "actions": _ACTIONS,
    },
    since=32,
)
ANALYZE_IMAGES = TaskTypeSpec(
    id="core:analyze-images",
    name="Analyze images",
    description="Ask a question about the given images.",
    input_shape={
        "images": Shape("Images", "Images to ask a question about", ShapeType.LIST_OF_IMAGES),
        "input": Shape("Question", "What to ask about the images.", _TEXT),
    },
    output_shape={"output": Shape("Generated response", "The answer to the question", _TEXT)},
    since=32,
)
OCR = TaskTypeSpec(
    id="core:image2text:ocr",
    name="Optical character recognition",
    description="Extract text from files like images or PDFs",
    input_shape={
        "input": Shape("Input files", "The files to extract text from", ShapeType.LIST_OF_FILES)
    },
    output_shape={
        "output": Shape(
            "Output texts",
            "The texts that were extracted from the files",
            ShapeType.LIST_OF_TEXTS,
        )
    },
    since=33,
)
REFORMAT_PARAGRAPHS = _text_task(
    "core:text2text:reformatparagraphs",
    "Reformat paragraphs",
    "Reformats a text into multiple paragraphs separated by topic",
    ("Text", "The text to reformat"),
    ("Reformatted text", "The reformatted text with paragraphs separated by topic"),
    since=34,
)
IMPROVE = TaskTypeSpec(
    id="core:text2text:improve",
    name="Improve text",
    description="Takes a text and improves it based on instructions",
    input_shape={
        "input": Shape("Input text", "Write a text that you want the assistant to improve", _TEXT),
        "instructions": Shape(
            "Instructions", "Describe how the assistant should improve the text", _TEXT
        ),
    },
    output_shape={"output": Shape("Improved text", "The improved text", _TEXT)},
    since=35,
)
IMAGE_TO_IMAGE = TaskTypeSpec(
    id="core:image2image",
    name="Edit image",
    description="Edit an image based on a text description of the changes",
    input_shape={
        "input": Shape("Input images", "The images to edit", ShapeType.LIST_OF_IMAGES),
        "prompt": Shape("Prompt", "Describe the changes you want to make to the image", _TEXT),
    },
    output_shape={"output": Shape("Output image", "The edited image", ShapeType.IMAGE)},
    since=35,
)
SUBTITLES = TaskTypeSpec(
    id="core:audio2text:subtitles",
    name="Generate subtitles",
    description="Subtitle the things said in an audio or video",
    input_shape={"input": Shape("Input file", "The file to subtitle", ShapeType.FILE)},
    output_shape={"output": Shape("Subtitles", "The subtitles file", ShapeType.FILE)},
    since=35,
)
AUDIO_TRANSLATE = TaskTypeSpec(
    id="core:audio2audio:translate",
    name="Translate audio",
    description=(
        "Translates the speech of an audio file or recording and outputs an audio file in the "
        "desired language."
    ),
    input_shape={
        "input": Shape("Input audio", "The audio file or recording to translate", ShapeType.AUDIO),
        "origin_language": Shape(
            "Origin language", "The language of the origin audio", ShapeType.ENUM
        ),
        "target_language": Shape(
            "Target language",
            "The desired language to translate the origin audio in",
            ShapeType.ENUM,
        ),
    },
    output_shape={"audio_output": Shape("Audio output", "The audio translation", ShapeType.AUDIO)},
    since=35,
)
# The two internal types: only their slots are in reference §7; names and texts are the sandbox's.
MULTIMODAL_CHAT_WITH_TOOLS = TaskTypeSpec(
    id="core:text2text:multimodal-chatwithtools",
    name="Multimodal chat with tools",
    description="Chat with the language model with tool calling and file attachment support.",
    input_shape={**CHAT_WITH_TOOLS.input_shape, "input_attachments": _ATTACHMENTS_IN},
    output_shape={
        "output": CHAT_WITH_TOOLS.output_shape["output"],
        "output_attachments": _ATTACHMENTS_OUT,
        "tool_calls": _TOOL_CALLS,
    },
    since=35,
    internal=True,
)
MULTIMODAL_CONTEXT_AGENT = TaskTypeSpec(
    id="core:contextagent:multimodal-interaction",
    name="Multimodal ContextAgent",
    description="Chat with an agent, with file attachments",
    input_shape={
        "input": CONTEXT_AGENT.input_shape["input"],
        "input_attachments": _ATTACHMENTS_IN,
        "confirmation": _CONFIRMATION,
        "conversation_token": _CONVERSATION_TOKEN,
        "memories": Shape("Memories", "Things the agent should remember", ShapeType.LIST_OF_TEXTS),
    },
    output_shape={
        "output": CONTEXT_AGENT.output_shape["output"],
        "output_attachments": _ATTACHMENTS_OUT,
        "conversation_token": _NEW_CONVERSATION_TOKEN,
        "actions": _ACTIONS,
        "sources": Shape("Sources", "The sources the agent used", ShapeType.LIST_OF_TEXTS),
    },
    since=35,
    internal=True,
)

CORE_TASK_TYPES = (
    TEXT_TO_TEXT,
    HEADLINE,
    TOPICS,
    SUMMARY,
    FORMALIZATION,
    SIMPLIFICATION,
    REFORMULATION,
    CHAT,
    TRANSLATE,
    TEXT_TO_IMAGE,
    AUDIO_TO_TEXT,
    CONTEXT_WRITE,
    GENERATE_EMOJI,
    CHANGE_TONE,
    CHAT_WITH_TOOLS,
    CONTEXT_AGENT,
    PROOFREAD,
    TEXT_TO_SPEECH,
    AUDIO_CHAT,
    CONTEXT_AGENT_AUDIO,
    ANALYZE_IMAGES,
    OCR,
    REFORMAT_PARAGRAPHS,
    IMPROVE,
    IMAGE_TO_IMAGE,
    SUBTITLES,
    AUDIO_TRANSLATE,
    MULTIMODAL_CHAT_WITH_TOOLS,
    MULTIMODAL_CONTEXT_AGENT,
)
