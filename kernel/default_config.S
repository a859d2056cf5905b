/* configs/default.toml, embedded so `axle` with no flags needs no file. */
    .section .rodata
    .global axle_default_config_begin
    .global axle_default_config_end
axle_default_config_begin:
    .incbin "default.toml"
axle_default_config_end:
    .section .note.GNU-stack,"",@progbits
