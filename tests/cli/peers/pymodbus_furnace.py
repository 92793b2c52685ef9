#!/usr/bin/python3
"""An independent Modbus TCP furnace controller for `dmacycle probe`: pymodbus (Debian's
python3-pymodbus), not our simulator, holding a Eurotherm-style map (PDU address = tag,
one implied decimal, °C). Binds 127.0.0.1 port 0, prints "furnace modbus-tcp://127.0.0.1:PORT"
once it accepts connections, and serves until stdin closes or it is killed.

Values: PV 250.3 °C (tag 1), target setpoint 260.0 °C (tag 2), working setpoint 255.5 °C (5),
comms setpoint 260.0 °C (26), rate limit 5.0 (35), status bit 13 ramp running (75); the same
temperatures and rate as floats at 0x8000 + 2·tag, high word first, as Eurotherm serves them."""
import asyncio
import struct
import sys

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server.async_io import ModbusTcpServer

FLOAT_BASE = 0x8000
REGISTERS = {1: 2503, 2: 2600, 5: 2555, 26: 2600, 35: 50, 75: 1 << 13}


async def main():
    values = [0] * (FLOAT_BASE + 2 * 300)
    for address, value in REGISTERS.items():
        values[address] = value
        if address != 75:  # the status word is raw bits, not a value with a decimal
            high, low = struct.unpack(">HH", struct.pack(">f", value / 10))
            values[FLOAT_BASE + 2 * address:FLOAT_BASE + 2 * address + 2] = [high, low]
    # zero_mode: PDU address N is index N, as on the controller (no +1 shift).
    unit = ModbusSlaveContext(hr=ModbusSequentialDataBlock(0, values), zero_mode=True)
    server = ModbusTcpServer(ModbusServerContext(slaves={1: unit}, single=False),
                             address=("127.0.0.1", 0))
    task = asyncio.create_task(server.serve_forever())
    await server.serving
    port = server.server.sockets[0].getsockname()[1]
    print(f"furnace modbus-tcp://127.0.0.1:{port}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the test closes our stdin
    await server.server_close()
    task.cancel()


asyncio.run(main())
