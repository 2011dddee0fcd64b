;; The header-line scanner behind EslEvent's lookups on plain events (line-scan.ts loads it).
;; Regenerate the bytes in line-scan.ts after editing: npm run wasm -w freeswitch-esl
;;
;; scan(start, end, needle, nlen) looks at bytes [start, end) of memory, the text of an event, and
;; at each LF at offset q in that range:
;;   - LF at q+1 (a blank line: the headers end there)  -> returns -2 - (q+1)
;;   - the nlen bytes at `needle` spelled from q+1      -> returns q+1 (that header line's start)
;; and -1 when neither happens before `end`. Sixteen bytes are compared with LF at a time; the
;; caller leaves 16 bytes of memory after `end`, since the last load may read past it.
(module
  (memory (export "memory") 1)
  (func (export "scan") (param $start i32) (param $end i32) (param $needle i32) (param $nlen i32) (result i32)
    (local $p i32) (local $mask i32) (local $q i32) (local $i i32) (local $lf v128)
    (local.set $lf (i8x16.splat (i32.const 10)))
    (local.set $p (local.get $start))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ;; one bit per LF among the 16 bytes at p, lowest offset first
        (local.set $mask (i8x16.bitmask (i8x16.eq (v128.load (local.get $p)) (local.get $lf))))
        (block $next
          (loop $bits
            (br_if $next (i32.eqz (local.get $mask)))
            (local.set $q (i32.add (local.get $p) (i32.ctz (local.get $mask))))
            (local.set $mask (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))
            (br_if $done (i32.ge_u (local.get $q) (local.get $end)))
            ;; an LF in the last byte: what follows is not in the range
            (if (i32.ge_u (i32.add (local.get $q) (i32.const 1)) (local.get $end))
              (then (return (i32.const -1))))
            (if (i32.eq (i32.load8_u (i32.add (local.get $q) (i32.const 1))) (i32.const 10))
              (then (return (i32.sub (i32.const -2) (i32.add (local.get $q) (i32.const 1))))))
            ;; the needle, if the whole of it lies in the range (it holds no LF, so a line cut
            ;; short by the range end has no LF after it here either: the answer is then -1)
            (if (i32.le_u (i32.add (i32.add (local.get $q) (i32.const 1)) (local.get $nlen)) (local.get $end))
              (then
                (local.set $i (i32.const 0))
                (block $differs
                  (loop $compare
                    (if (i32.ge_u (local.get $i) (local.get $nlen))
                      (then (return (i32.add (local.get $q) (i32.const 1)))))
                    (br_if $differs
                      (i32.ne
                        (i32.load8_u (i32.add (i32.add (local.get $q) (i32.const 1)) (local.get $i)))
                        (i32.load8_u (i32.add (local.get $needle) (local.get $i)))))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $compare)))))
            (br $bits)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $blocks)))
    (i32.const -1))
)
