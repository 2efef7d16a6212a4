"""The terminal driver: Textual's Linux driver, except that input which is not UTF-8 cannot end the app.

Textual decodes what the terminal sends with a strict UTF-8 decoder, so one stray byte (a paste of
Latin-1 text, or a terminal that sends Alt+key as an 8-bit byte such as ``\\xe9``) raises in its input
thread and the app exits. Here such bytes become U+FFFD: a table ignores that key, a text field shows
that something undecodable was typed, and the keys after it work as usual.
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from textual import constants
from textual._loop import loop_last
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver


def driver_class() -> type[Driver] | None:
    """The driver the app runs with, or None for Textual's choice (``TEXTUAL_DRIVER`` set)."""
    return None if constants.DRIVER is not None else TolerantLinuxDriver


class TolerantLinuxDriver(LinuxDriver):
    """``LinuxDriver`` whose input decoder replaces undecodable bytes instead of raising."""

    def run_input_thread(self) -> None:
        # Textual 8.2.8's LinuxDriver.run_input_thread with one change: errors="replace" in the decoder
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)

        fileno = self.fileno
        EVENT_READ = selectors.EVENT_READ

        parser = XTermParser(self._debug)
        feed = parser.feed
        tick = parser.tick

        decode = getincrementaldecoder("utf-8")(errors="replace").decode
        read = os.read

        def process_selector_events(selector_events: list[tuple[selectors.SelectorKey, int]],
                                    final: bool = False) -> None:
            for last, (_selector_key, mask) in loop_last(selector_events):
                if mask & EVENT_READ:
                    unicode_data = decode(read(fileno, 1024 * 4), final=final and last)
                    if not unicode_data:
                        break  # stdin is a pipe that was closed
                    for event in feed(unicode_data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process_selector_events(selector.select(0.1))
            selector.unregister(self.fileno)
            process_selector_events(selector.select(0.1), final=True)
        finally:
            selector.close()
            try:
                for _event in feed(""):
                    pass
            except (EOFError, ParseError):
                pass
