"""Built-in BBj sample text used to train the tiny test model's tokenizer.

It covers the generations a real BBj code base mixes: object-oriented BBj classes, legacy
line-numbered character-mode programs (``PRINT @(col,row)``, file I/O with ``KEY=``/``ERR=``),
Visual PRO/5 mnemonics and BBj GUI/DWC code built on ``BBjAPI()``.
"""

from __future__ import annotations

_OBJECT_ORIENTED = """\
REM Customer.bbj - customer domain object
use java.util.ArrayList
use java.util.HashMap
use java.math.BigDecimal

class public Customer
    field public BBjString Id$
    field public BBjString Name$
    field public BBjNumber Balance
    field private ArrayList Orders! = new ArrayList()
    field public static BBjInt Count% = 0

    method public Customer(BBjString id$, BBjString name$)
        #Id$ = id$
        #Name$ = name$
        #Balance = 0
        #Count% = #Count% + 1
    methodend

    method public BBjString getDisplayName()
        methodret #Id$ + " - " + cvs(#Name$, 3)
    methodend

    method public void addPayment(BBjNumber amount)
        if amount <= 0 then
            throw "Payment must be positive", 17
        fi
        #Balance = #Balance - amount
    methodend

    method public void addOrder(Order order!)
        #Orders!.add(order!)
        #Balance = #Balance + order!.getTotal()
    methodend

    method public BBjNumber getOrderCount()
        methodret #Orders!.size()
    methodend

    method public boolean isOverLimit(BBjNumber limit)
        if #Balance > limit then methodret Boolean.TRUE
        methodret Boolean.FALSE
    methodend
classend

class public Order
    field public BBjString Number$
    field private BBjVector Lines! = BBjAPI().makeVector()

    method public void addLine(BBjString item$, BBjNumber qty, BBjNumber price)
        declare HashMap line!
        line! = new HashMap()
        line!.put("item", item$)
        line!.put("qty", qty)
        line!.put("price", price)
        #Lines!.addItem(line!)
    methodend

    method public BBjNumber getTotal()
        total = 0
        for i = 0 to #Lines!.size() - 1
            line! = #Lines!.getItem(i)
            total = total + line!.get("qty") * line!.get("price")
        next i
        methodret round(total, 2)
    methodend
classend

interface public Printable
    method public void print(BBjString device$)
interfaceend

class public Invoice extends Order implements Printable
    field public BBjString CustomerId$

    method public void print(BBjString device$)
        ch = unt
        open (ch, err=open_failed) device$
        print (ch) "Invoice ", #getNumber(), " for ", #CustomerId$
        print (ch) "Total: ", str(#getTotal():"###,##0.00")
        close (ch)
        methodret
        open_failed:
            throw "Cannot open printer " + device$, err
    methodend
classend

declare Customer cust!
cust! = new Customer("C1001", "Acme Tools")
cust!.addPayment(125.50)
print cust!.getDisplayName(), " owes ", cust!.Balance

declare ArrayList names!
names! = new ArrayList()
names!.add("alpha")
names!.add("beta")
it! = names!.iterator()
while it!.hasNext()
    print it!.next()
wend

switch cust!.getOrderCount()
    case 0
        print "no orders"
        break
    case 1
    case 2
        print "a few orders"
        break
    case default
        print "many orders"
swend

seterr handle_error
x = num("12a")
handle_error:
    print "error ", err, " at line ", tcb(5), ": ", errmes(-1)
    retry
"""

_LEGACY_CHARACTER = """\
0010 REM "CUSTINQ - customer inquiry (character mode)
0020 SETESC 9900
0030 SETERR 9000
0040 DIM NAME$(30), ADDR$(40), CITY$(20)
0050 LET CUSTFILE=UNT
0060 OPEN (CUSTFILE,ERR=9100)"CUSTMAST"
0100 REM " Screen layout
0110 PRINT 'CS','SB',@(0,0),"Customer Inquiry",@(60,0),DATE(0:"%Mz/%Dz/%Yz")
0120 PRINT @(0,2),"Customer #:",@(0,4),"Name:",@(0,5),"Address:",@(0,6),"City:"
0130 PRINT @(0,8),"Balance:",'SF'
0200 REM " Get customer number
0210 PRINT @(12,2),'CL',
0220 INPUT (0,ERR=0210)@(12,2),"",CUST$
0230 IF CUST$="" THEN GOTO 9900
0240 LET CUST$=PAD(CUST$,6,"0")
0250 READ (CUSTFILE,KEY=CUST$,DOM=0500)NAME$,ADDR$,CITY$,BALANCE
0260 PRINT @(12,4),NAME$,@(12,5),ADDR$,@(12,6),CITY$
0270 PRINT @(12,8),BALANCE:"-##,###,##0.00"
0280 GOSUB 1000
0290 GOTO 0210
0500 REM " Not on file
0510 PRINT @(0,22),'BR',"Customer ",CUST$," not on file",'ER','RB'
0520 GOTO 0210
1000 REM " Show open invoices
1010 LET ROW=10, TOTAL=0
1020 READ (INVFILE,KEY=CUST$,DOM=1030)
1030 LET K$=KEY(INVFILE,END=1090)
1040 IF K$(1,6)<>CUST$ THEN GOTO 1090
1050 READ (INVFILE)INVNO$,INVDATE$,AMOUNT
1060 PRINT @(2,ROW),INVNO$,@(12,ROW),INVDATE$,@(24,ROW),AMOUNT:"###,##0.00"
1070 LET ROW=ROW+1, TOTAL=TOTAL+AMOUNT
1080 IF ROW<20 THEN GOTO 1030
1090 PRINT @(24,ROW+1),TOTAL:"###,##0.00"
1100 RETURN
2000 REM " Totals by region
2010 DIM TOTALS[9]
2020 FOR I=1 TO 9
2030 LET TOTALS[I]=0
2040 NEXT I
2050 WHILE 1
2060 READ (CUSTFILE,END=2100)NAME$,ADDR$,CITY$,BALANCE,REGION
2070 LET TOTALS[REGION]=TOTALS[REGION]+BALANCE
2080 WEND
2100 FOR I=1 TO 9; PRINT "Region ",I,": ",TOTALS[I]:"##,###,##0.00"; NEXT I
2110 RETURN
3000 DEF FNPCT(A,B)=ROUND(A*100/B,1)
3010 DEF FNTRIM$(S$)
3020 WHILE LEN(S$)>0 AND S$(LEN(S$),1)=" "
3030 LET S$=S$(1,LEN(S$)-1)
3040 WEND
3050 RETURN S$
3060 FNEND
9000 REM " Error handler
9010 PRINT @(0,23),'CL',"Error ",ERR," at line ",TCB(5)
9020 INPUT "Press <Enter> ",*
9030 RETRY
9100 PRINT "Cannot open CUSTMAST: ",ERRMES(ERR); ESCAPE
9900 REM " Exit
9910 CLOSE (CUSTFILE)
9920 PRINT 'CS'
9999 END
"""

_VPRO5_MNEMONICS = """\
0010 REM "Visual PRO/5 window with mnemonics
0020 LET SYSGUI=UNT
0030 OPEN (SYSGUI)"X0"
0040 PRINT (SYSGUI)'WINDOW'(100,100,400,240,"Order Entry",$00010003$,$$)
0050 PRINT (SYSGUI)'TITLE'("Order Entry - "+DATE(0))
0060 PRINT (SYSGUI)'BUTTON'(101,20,180,90,25,"OK",$$)
0070 PRINT (SYSGUI)'BUTTON'(102,120,180,90,25,"Cancel",$$)
0080 PRINT (SYSGUI)'EDIT'(103,20,40,200,24,"",$$)
0090 PRINT (SYSGUI)'FOCUS'(103)
0100 DIM EVENT$:TMPL(SYSGUI,IND=0)
0110 READ RECORD (SYSGUI,SIZ=10)EVENT$
0120 IF EVENT.CODE$="X" THEN GOTO 0900
0130 IF EVENT.CODE$="B" AND EVENT.ID=101 THEN GOSUB 0500
0140 IF EVENT.CODE$="B" AND EVENT.ID=102 THEN GOTO 0900
0150 GOTO 0110
0500 LET CTRL$=CTRL(SYSGUI,103,1)
0510 PRINT (SYSGUI)'MESSAGE'("Saved order "+CTRL$)
0520 RETURN
0900 CLOSE (SYSGUI)
0910 RELEASE
"""

_BBJ_GUI = """\
rem OrderEntry.bbj - BBj GUI program with callbacks
use ::Customer.bbj::Customer

sysgui! = BBjAPI().getSysGui()
window! = sysgui!.addWindow(100, 100, 480, 320, "Order Entry", $00090083$)
window!.setCallback(window!.ON_CLOSE, "on_close")

static! = window!.addStaticText(101, 20, 20, 100, 24, "Customer:")
custEdit! = window!.addEditBox(102, 130, 20, 200, 24, "")
grid! = window!.addListButton(103, 130, 60, 200, 200, "")
okButton! = window!.addButton(1, 260, 270, 90, 28, "OK")
cancelButton! = window!.addButton(2, 360, 270, 90, 28, "Cancel")

okButton!.setCallback(okButton!.ON_BUTTON_PUSH, "on_ok")
cancelButton!.setCallback(cancelButton!.ON_BUTTON_PUSH, "on_close")
custEdit!.setCallback(custEdit!.ON_EDIT_MODIFY, "on_modify")
custEdit!.focus()

process_events

on_ok:
    name$ = custEdit!.getText()
    if len(cvs(name$, 3)) = 0 then
        i = msgbox("Please enter a customer name", 48, "Order Entry")
        return
    endif
    cust! = new Customer(str(rnd(9999)), name$)
    grid!.addItem(cust!.getDisplayName())
    custEdit!.setText("")
return

on_modify:
    event! = sysgui!.getLastEvent()
    okButton!.setEnabled(len(event!.getText()) > 0)
return

on_close:
    window!.destroy()
release

rem DWC (browser) version
web! = BBjAPI().getWebManager()
if web! <> null() then
    web!.setTitle("Order Entry")
    window!.setStyle("background-color", "var(--bbj-color-default)")
    window!.addPanelStyle("order-form")
endif

class public OrderForm
    field private BBjTopLevelWindow Window!
    field private BBjInputE Amount!

    method public OrderForm(BBjSysGui gui!)
        #Window! = gui!.addWindow(10, 10, 300, 200, "Order", $01101083$)
        #Amount! = #Window!.addInputE(201, 10, 10, 120, 25)
        #Window!.setCallback(BBjAPI.ON_CLOSE, #this!, "onClose")
    methodend

    method public void onClose(BBjCloseEvent ev!)
        #Window!.destroy()
        release
    methodend
classend

form! = new OrderForm(sysgui!)
process_events
"""

_CORPUS = "\n".join((_OBJECT_ORIENTED, _LEGACY_CHARACTER, _VPRO5_MNEMONICS, _BBJ_GUI))


def sample_bbj_corpus() -> str:
    """Return the embedded BBj sample text (a few hundred lines across BBj generations)."""
    return _CORPUS
