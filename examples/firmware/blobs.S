/* blobs.S — program.dt and events.jsonl linked in as they are, so the
 * firmware and `dt replay` read the very same files. */
    .section .rodata.fw_blobs, "a"
    .global fw_program, fw_program_end, fw_events, fw_events_end
fw_program:
    .incbin "program.dt"
fw_program_end:
fw_events:
    .incbin "events.jsonl"
fw_events_end:
    .byte 0
